import { Inject, Injectable } from '@nestjs/common';
import { OrderStatus, findMarket, money, type Actor, type Money, type OrderParams } from '@desk/contracts';
import { MarketPriceStore } from '@desk/platform';
import { RISK_CONFIG, type RiskConfig } from '../../config';
import { BookService } from '../state/book.service';
import { IntentsRepository } from '../state/intents.repository';
import { LimitsRepository } from '../state/limits.repository';
import { TradingStateRepository } from '../state/trading-state.repository';
import { VenuesRepository } from '../state/venues.repository';
import { tradingDay } from '../state/trading-day';
import { approvalNeed, type ApprovalNeed } from './approval-rule';
import { PRE_TRADE_RULES } from './limit-rules';
import { runChecks, type RiskContext, type RiskDecision } from './risk-rule';

export interface Evaluation {
  readonly decision: RiskDecision;
  /** Only meaningful for an accepted order. */
  readonly approval: ApprovalNeed;
  readonly context: RiskContext;
}

/**
 * Gathers what the rules need (market, prices, limits, trading state, book, activity, live venues) and runs
 * them.
 */
@Injectable()
export class RiskCheckService {
  private readonly threshold: Money;
  private readonly allowlist: readonly string[];

  constructor(
    @Inject(RISK_CONFIG) private readonly config: RiskConfig,
    @Inject(MarketPriceStore) private readonly prices: MarketPriceStore,
    @Inject(LimitsRepository) private readonly limits: LimitsRepository,
    @Inject(TradingStateRepository) private readonly tradingState: TradingStateRepository,
    @Inject(BookService) private readonly book: BookService,
    @Inject(IntentsRepository) private readonly intents: IntentsRepository,
    @Inject(VenuesRepository) private readonly venues: VenuesRepository,
  ) {
    this.threshold = money(config.APPROVAL_NOTIONAL_THRESHOLD);
    this.allowlist = config.RISK_SYMBOL_ALLOWLIST.length
      ? config.RISK_SYMBOL_ALLOWLIST
      : config.TRADING_SYMBOLS;
  }

  /** `actor`: who submitted the intent (their open orders are counted). */
  async evaluate(intentId: string, order: OrderParams, actor: Actor, now: Date): Promise<Evaluation> {
    const market = findMarket(order.symbol, this.config.TRADING_SYMBOLS);
    const timeZone = this.config.RISK_DAY_TIMEZONE;
    const [reading, limits, tradingState, book, activity, liveVenue] = await Promise.all([
      market ? this.prices.read(order.symbol, now) : Promise.resolve(undefined),
      this.limits.values(),
      this.tradingState.get(),
      this.book.snapshot(now),
      this.intents.activity(intentId, order.symbol, actor, now, tradingDay(now, timeZone), timeZone),
      // A desk has one execution venue: once any venue trades real money, every order is critical.
      this.venues.anyLive(),
    ]);
    const context: RiskContext = {
      order,
      market,
      allowlist: this.allowlist,
      lastPrice: reading?.ok ? reading.price : undefined,
      ...(reading && !reading.ok ? { lastPriceProblem: reading.problem } : {}),
      maxPriceAgeMs: this.config.RISK_MAX_PRICE_AGE_MS,
      limits,
      tradingState,
      book,
      activity,
      now,
    };
    const decision = runChecks(PRE_TRADE_RULES, context);
    const approval =
      decision.status === OrderStatus.Accepted
        ? approvalNeed(decision.figures, this.threshold, liveVenue)
        : { required: false, reason: '', context: {} };
    return { decision, approval, context };
  }
}
