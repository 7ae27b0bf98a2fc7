import { readOnce, type BatchReads } from '../state/batch-reads';
import { Inject, Injectable } from '@nestjs/common';
import { OrderStatus, money, type Actor, type Money, type OrderParams } from '@desk/contracts';
import type { EntityManager } from 'typeorm';
import {
  MarketCatalogService,
  MarketPriceStore,
  type MarketPrice,
  type MarketPriceReading,
} from '@desk/platform';
import { RISK_CONFIG, type RiskConfig } from '../../config';
import { BookService } from '../state/book.service';
import { DecisionLedger } from '../state/decision-ledger';
import { IntentsRepository } from '../state/intents.repository';
import { LimitsRepository } from '../state/limits.repository';
import type { TradingStateRecord } from '../state/trading-state.repository';
import { VenuesRepository } from '../state/venues.repository';
import { tradingDay } from '../state/trading-day';
import { approvalNeed, type ApprovalNeed } from './approval-rule';
import { PRE_TRADE_RULES } from './limit-rules';
import { runChecks, type RiskContext, type RiskDecision } from './risk-rule';

export interface EvaluationInput {
  readonly order: OrderParams;
  /** Who submitted the intent: their open orders are counted. */
  readonly actor: Actor;
  readonly now: Date;
  /** Last market prices, each usable or why not (marketPrices(), read before the transaction). */
  readonly prices: ReadonlyMap<string, MarketPriceReading>;
  /** The trading state the transaction holds (BookLockService.hold). */
  readonly tradingState: TradingStateRecord;
  /** The batch this decision is part of: what no decision changes is read once for all of them. */
  readonly batch?: BatchReads;
  /**
   * The working state the rules count against (pending exposure, rate, day's and open orders), as of `now`
   * (ledger()), with the batch's earlier decisions added.
   */
  readonly ledger: DecisionLedger;
}

export interface Evaluation {
  readonly decision: RiskDecision;
  /** Only meaningful for an accepted order. */
  readonly approval: ApprovalNeed;
  readonly context: RiskContext;
}

/**
 * Gathers what the rules need (the venue's market, prices, limits, trading state, book, activity, live
 * venues) and runs them.
 */
@Injectable()
export class RiskCheckService {
  private readonly threshold: Money;
  private readonly allowlist: readonly string[];

  constructor(
    @Inject(RISK_CONFIG) private readonly config: RiskConfig,
    @Inject(MarketPriceStore) private readonly prices: MarketPriceStore,
    @Inject(LimitsRepository) private readonly limits: LimitsRepository,
    @Inject(BookService) private readonly book: BookService,
    @Inject(IntentsRepository) private readonly intents: IntentsRepository,
    @Inject(VenuesRepository) private readonly venues: VenuesRepository,
    @Inject(MarketCatalogService) private readonly catalog: MarketCatalogService,
  ) {
    this.threshold = money(config.APPROVAL_NOTIONAL_THRESHOLD);
    this.allowlist = config.RISK_SYMBOL_ALLOWLIST.length
      ? config.RISK_SYMBOL_ALLOWLIST
      : config.TRADING_SYMBOLS;
  }

  /**
   * The market prices an evaluation uses (each a usable price or why not), read before the decision's
   * transaction opens (no I/O to Redis in it).
   */
  marketPrices(now = new Date()): Promise<Map<string, MarketPriceReading>> {
    return this.prices.readAll(now);
  }

  /**
   * The working state of a decision batch (DecisionLedger) as of `now`, read in the batch's transaction after
   * it locked the book; `actors`: the batch's, whose open orders are counted; `excluding`: an intent decided
   * again (on its approval), which does not count against itself.
   */
  async ledger(
    tx: EntityManager,
    now: Date,
    actors: readonly Actor[],
    excluding?: string,
  ): Promise<DecisionLedger> {
    const timeZone = this.config.RISK_DAY_TIMEZONE;
    return new DecisionLedger(
      await this.intents.ledger(tx, now, tradingDay(now, timeZone), timeZone, actors, excluding),
    );
  }

  /**
   * Runs the rules inside the caller's transaction, which holds the risk book (BookLockService): every
   * count, position and pending order it reads is what the previous decisions committed, and no other
   * decision commits until this one does. `actor`: who submitted the intent (their open orders are counted).
   */
  async evaluate(tx: EntityManager, input: EvaluationInput): Promise<Evaluation> {
    const { order, actor, now, prices, tradingState, batch, ledger } = input;
    // The venue's market as execution publishes it (from memory; DependencyUnavailableError, so the job is
    // retried, while there is no catalog): only for an enabled symbol.
    const listed = await this.catalog.find(order.symbol);
    const market = listed && this.config.TRADING_SYMBOLS.includes(order.symbol) ? listed : undefined;
    const reading = market ? prices.get(order.symbol) : undefined;
    const usable = new Map<string, MarketPrice>();
    for (const [symbol, r] of prices) if (r.ok) usable.set(symbol, r.price);
    const limits = await readOnce(batch, 'limits', () => this.limits.values(tx));
    const book = await this.book.snapshot(now, usable, { tx, batch, pending: ledger.pending() });
    const activity = ledger.activity(order.symbol, actor);
    // A desk has one execution venue: once any venue trades real money, every order is critical.
    const liveVenue = await readOnce(batch, 'anyLive', () => this.venues.anyLive(tx));
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
