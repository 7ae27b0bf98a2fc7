import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { AuditAction, Money, OrderSide, ServiceName, money, serviceActor, toWire } from '@desk/contracts';
import { MarketPriceStore, Outbox, uuidFromHash, type MarketPrice } from '@desk/platform';
import { RISK_CONFIG, type RiskConfig } from '../../config';
import type { Book } from '../state/book';
import { BookService } from '../state/book.service';
import { EquityRepository } from '../state/equity.repository';
import { PositionsRepository } from '../state/positions.repository';
import { RiskOrdersService } from '../state/risk-orders.service';
import { TradingStateRepository, type TradingStateRecord } from '../state/trading-state.repository';
import { TradingStateService, isMoreRestrictive } from '../state/trading-state.service';
import { countBreakerTrip, countBreakerWarning, recordBreaker, recordTick } from '../checks/risk-metrics';
import { Breaker, type Observation } from './breaker';
import { PriceHistory, nthLargestMove } from './price-history';
import { stopLossCheck, stopLossPctFor } from './stop-loss';

/** Ratios in audit payloads: 8 decimals, rounded up. */
function ratio(value: Money): Money {
  return value.toDecimalPlaces(8, Money.ROUND_UP);
}

/**
 * Every RISK_BREAKER_INTERVAL_MS: the three automatic breakers and the stop-losses.
 * - drawdown: (peak equity - equity) / peak equity;
 * - error rate: share of orders execution reported on within the window that failed (UNKNOWN at the
 *   venue, or refused for an invalid approval), judged from RISK_ERROR_RATE_MIN_ORDERS orders on, and
 *   counted from the last resume at most;
 * - volatility: the move over the window of the n-th most moving symbol (n = RISK_VOLATILITY_MIN_SYMBOLS),
 *   so it breaches only when n symbols move that much at once.
 * A breaker warns (audit event and log line) when it reaches 80 % of its threshold and trips (REDUCING or
 * HALTED, never back) after RISK_BREAKER_CONSECUTIVE consecutive breaches. The counters live in memory: a
 * restart or a takeover starts counting again. It runs only on the writer instance: LeaderDutiesService
 * starts it on election and stops it on deposition (docs/adr/0015); every effect is idempotent too.
 */
@Injectable()
export class RiskMonitor implements OnModuleDestroy {
  private readonly logger = new Logger(RiskMonitor.name);
  private readonly actor = serviceActor(ServiceName.Risk);
  private readonly history: PriceHistory;
  readonly drawdown: Breaker;
  readonly errorRate: Breaker;
  readonly volatility: Breaker;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    @Inject(RISK_CONFIG) private readonly config: RiskConfig,
    @Inject(MarketPriceStore) private readonly prices: MarketPriceStore,
    @Inject(BookService) private readonly book: BookService,
    @Inject(EquityRepository) private readonly equity: EquityRepository,
    @Inject(PositionsRepository) private readonly positions: PositionsRepository,
    @Inject(TradingStateRepository) private readonly tradingStateRepository: TradingStateRepository,
    @Inject(TradingStateService) private readonly tradingState: TradingStateService,
    @Inject(RiskOrdersService) private readonly riskOrders: RiskOrdersService,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {
    const consecutive = config.RISK_BREAKER_CONSECUTIVE;
    this.history = new PriceHistory(config.RISK_VOLATILITY_WINDOW_MS);
    this.drawdown = new Breaker({
      name: 'drawdown',
      threshold: money(config.RISK_DRAWDOWN_THRESHOLD),
      consecutive,
      action: config.RISK_DRAWDOWN_ACTION,
    });
    this.errorRate = new Breaker({
      name: 'error_rate',
      threshold: money(config.RISK_ERROR_RATE_THRESHOLD),
      consecutive,
      action: config.RISK_ERROR_RATE_ACTION,
    });
    this.volatility = new Breaker({
      name: 'volatility',
      threshold: money(config.RISK_VOLATILITY_THRESHOLD),
      consecutive,
      action: config.RISK_VOLATILITY_ACTION,
    });
  }

  /** Starts the periodic look (idempotent). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      // A slow tick is not stacked on: the next one starts after it ends.
      if (!this.running) {
        this.running = this.tick()
          .catch((error: unknown) => this.logger.warn({ err: error }, 'risk monitor tick failed; will retry'))
          .finally(() => {
            this.running = undefined;
          });
      }
    }, this.config.RISK_BREAKER_INTERVAL_MS);
    this.timer.unref();
  }

  /**
   * No new tick starts after this; `wait` also waits for the tick in hand (a deposed leader does not: the
   * fence refuses its writes).
   */
  async stop(wait = true): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    if (wait) await this.running;
  }

  /** Stops before the database connection closes (that happens at application shutdown). */
  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  async tick(now = new Date()): Promise<void> {
    const prices = await this.prices.getAll();
    this.history.record(prices.values());
    const [state, book] = await Promise.all([
      this.tradingStateRepository.get(),
      this.book.snapshot(now, prices),
    ]);
    const pricesKey = [...prices.values()]
      .map((p) => `${p.symbol}@${p.at.getTime()}`)
      .sort()
      .join(',');
    await this.checkDrawdown(state, book, pricesKey);
    await this.checkErrorRate(state, now);
    await this.checkVolatility(state, pricesKey);
    await this.checkStopLosses(now, book, prices);
  }

  private async checkDrawdown(state: TradingStateRecord, book: Book, pricesKey: string): Promise<void> {
    const peak = await this.equity.updatePeak(book.equity);
    const drawdown = peak.gt(0) ? Money.max(peak.minus(book.equity).dividedBy(peak), 0) : money('0');
    recordTick(state.state, book, peak, drawdown);
    await this.judge(this.drawdown, ratio(drawdown), `${pricesKey}|${toWire(book.equity)}`, state, {
      peakEquity: toWire(peak),
      equity: toWire(book.equity),
    });
  }

  private async checkErrorRate(state: TradingStateRecord, now: Date): Promise<void> {
    const windowStart = now.getTime() - this.config.RISK_ERROR_RATE_WINDOW_MS;
    // Failures before a resume were judged already: the desk was resumed knowing them.
    const since = state.source === 'resume' ? Math.max(windowStart, state.setAt.getTime()) : windowStart;
    const stats = await this.positions.errorStats(new Date(since));
    const judged = stats.orders >= this.config.RISK_ERROR_RATE_MIN_ORDERS;
    const rate = judged ? money(String(stats.failed)).dividedBy(stats.orders) : money('0');
    await this.judge(this.errorRate, ratio(rate), undefined, state, {
      orders: String(stats.orders),
      failed: String(stats.failed),
      windowMs: String(this.config.RISK_ERROR_RATE_WINDOW_MS),
      minOrders: String(this.config.RISK_ERROR_RATE_MIN_ORDERS),
    });
  }

  private async checkVolatility(state: TradingStateRecord, pricesKey: string): Promise<void> {
    const moves = this.history.moves();
    const measure = nthLargestMove(moves, this.config.RISK_VOLATILITY_MIN_SYMBOLS);
    await this.judge(this.volatility, ratio(measure), pricesKey, state, {
      minSymbols: String(this.config.RISK_VOLATILITY_MIN_SYMBOLS),
      windowMs: String(this.config.RISK_VOLATILITY_WINDOW_MS),
      moves: Object.fromEntries(
        moves.map((m) => [m.symbol, { from: toWire(m.from), to: toWire(m.to), move: toWire(ratio(m.move)) }]),
      ),
    });
  }

  private async judge(
    breaker: Breaker,
    value: Money,
    key: string | undefined,
    state: TradingStateRecord,
    figures: Record<string, unknown>,
  ): Promise<Observation> {
    const o = breaker.observe(value, key);
    if (!o.counted) return o;
    const { name, threshold, action, consecutive } = breaker.settings;
    recordBreaker(name, o.value, threshold);
    const numbers = {
      breaker: name,
      limit: toWire(threshold),
      measured: toWire(o.value),
      warningAt: toWire(breaker.warningLevel),
      consecutive: o.consecutive,
      consecutiveToTrip: consecutive,
      action,
      ...figures,
    };
    if (o.warn) {
      this.logger.warn(
        numbers,
        `breaker ${name} at ${toWire(o.value)}: 80 % of its threshold ${toWire(threshold)}`,
      );
      await this.record(AuditAction.BreakerWarning, { type: 'breaker', id: name }, numbers);
      countBreakerWarning(name);
    }
    if (o.breached && !o.trip) {
      this.logger.warn(numbers, `breaker ${name} breached (${o.consecutive} of ${consecutive})`);
    }
    if (o.trip && isMoreRestrictive(action, state.state)) await this.trip(breaker, o, numbers);
    return o;
  }

  private async trip(breaker: Breaker, o: Observation, numbers: Record<string, unknown>): Promise<void> {
    const { name, threshold, action, consecutive } = breaker.settings;
    const outcome = await this.positions.transaction((tx) =>
      this.tradingState.change(tx, {
        to: action,
        escalateOnly: true,
        reason:
          `${name} ${toWire(o.value)} over ${toWire(threshold)} for ${o.consecutive} consecutive checks ` +
          `(trips after ${consecutive})`,
        actor: this.actor,
        source: `breaker.${name}`,
        correlationId: `breaker.${name}.${Date.now()}`,
        figures: numbers,
      }),
    );
    void this.outbox.flush();
    if (outcome.applied) {
      countBreakerTrip(name);
      this.logger.error(numbers, `BREAKER ${name} TRIPPED: trading ${outcome.from} -> ${action}`);
    }
  }

  private async checkStopLosses(
    now: Date,
    book: Book,
    prices: ReadonlyMap<string, MarketPrice>,
  ): Promise<void> {
    for (const [symbol, s] of book.symbols) {
      const pct = stopLossPctFor(this.config.RISK_STOP_LOSS_PCT, symbol);
      const last = prices.get(symbol);
      if (!pct || !last || now.getTime() - last.at.getTime() > this.config.RISK_MAX_PRICE_AGE_MS) continue;
      const check = stopLossCheck(s.position, pct, last.price);
      if (!check?.hit) continue;
      const p = s.position;
      // One closing order per position episode, however many ticks see the price through the stop.
      const intentId = uuidFromHash(`stop_loss:${symbol}:${p.episode}`);
      const figures = {
        stopLossPct: toWire(pct),
        stopPrice: toWire(check.stopPrice),
        lastPrice: toWire(last.price),
        averagePrice: toWire(p.averagePrice),
        position: toWire(p.quantity),
        episode: String(p.episode),
      };
      const reason =
        `last price ${toWire(last.price)} crossed the stop ${toWire(check.stopPrice)} ` +
        `(${toWire(pct)} from the entry ${toWire(p.averagePrice)})`;
      const sent = await this.positions.transaction(async (tx) => {
        const closed = await this.riskOrders.close(tx, {
          intentId,
          symbol,
          side: p.quantity.isNegative() ? OrderSide.Buy : OrderSide.Sell,
          quantity: p.quantity.abs(),
          actor: this.actor,
          origin: 'stop_loss',
          reason,
          correlationId: intentId,
          figures,
        });
        if (closed) {
          await this.outbox.addAudit(tx, {
            eventId: uuidFromHash(`${AuditAction.StopLossTriggered}:${intentId}`),
            actor: this.actor,
            action: AuditAction.StopLossTriggered,
            subject: { type: 'position', id: symbol },
            payload: { ...figures, intentId, reason },
            correlationId: intentId,
          });
        }
        return closed;
      });
      if (sent) {
        void this.outbox.flush();
        this.logger.warn({ symbol, ...figures }, `stop-loss: closing ${toWire(p.quantity)} ${symbol}`);
      }
    }
  }

  private async record(
    action: AuditAction,
    subject: { type: string; id: string },
    payload: Record<string, unknown>,
  ) {
    await this.positions.transaction((tx) =>
      this.outbox.addAudit(tx, {
        actor: this.actor,
        action,
        subject,
        payload,
        correlationId: `${subject.type}.${subject.id}.${Date.now()}`,
      }),
    );
    void this.outbox.flush();
  }
}
