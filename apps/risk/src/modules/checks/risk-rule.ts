import {
  OrderStatus,
  OrderType,
  money,
  type MarketSpec,
  type Money,
  type OrderParams,
  type RiskReasonCode,
} from '@desk/contracts';
import type { MarketPrice } from '@desk/platform';
import type { Book } from '../state/book';
import type { Activity } from '../state/intents.repository';
import { LimitName, type RiskLimitValues } from '../state/limits';
import type { TradingStateRecord } from '../state/trading-state.repository';

/**
 * Everything the rules may look at, gathered before any rule runs, so rules are pure functions of one
 * snapshot (and the snapshot is what the decision is explained by).
 */
export interface RiskContext {
  readonly order: OrderParams;
  /** The venue's market, when the symbol is both enabled (TRADING_SYMBOLS) and in the venue's catalog. */
  readonly market: MarketSpec | undefined;
  /** Symbols orders may be placed in (RISK_SYMBOL_ALLOWLIST, else TRADING_SYMBOLS). */
  readonly allowlist: readonly string[];
  /** Last market price of the symbol, when it may be used. */
  readonly lastPrice: MarketPrice | undefined;
  /** Why the stored last price may not be used (zero, negative, dated in the future), when it may not. */
  readonly lastPriceProblem?: string;
  readonly maxPriceAgeMs: number;
  /** The limits from risk.limits. */
  readonly limits: RiskLimitValues;
  readonly tradingState: Pick<TradingStateRecord, 'state' | 'reason' | 'source'>;
  /** Positions, pending orders, equity. */
  readonly book: Book;
  /** Recent submissions and today's orders. */
  readonly activity: Activity;
  readonly now: Date;
}

/** The numbers that drove a decision; written to risk.intents and the audit log as decimal strings. */
export interface RiskFigures {
  /** The threshold the order was measured against. */
  readonly limit?: Money;
  /** What was measured against it, when that is not the notional (decimals, price age in ms, a quantity). */
  readonly measured?: Money;
  readonly notional?: Money;
  readonly referencePrice?: Money;
}

export interface Violation extends RiskFigures {
  readonly reasonCode: RiskReasonCode;
  /** Human-readable, with the numbers: "notional 65000.00 exceeds max 50000". */
  readonly reason: string;
}

/**
 * One check. A rule looks only at its own concern and passes (returns undefined) when its inputs do not
 * apply (e.g. the precision rule on an unknown symbol): the order of the rule list decides which failure
 * is reported first, never whether a rule is safe to run.
 */
export interface RiskRule {
  readonly reasonCode: RiskReasonCode;
  check(ctx: RiskContext): Violation | undefined;
}

export type RiskDecision =
  | { readonly status: OrderStatus.Accepted; readonly figures: RiskFigures }
  | { readonly status: OrderStatus.Rejected; readonly violation: Violation };

export interface ReferencePrice {
  readonly price: Money;
  readonly source: 'limit' | 'market';
}

/** The price an order is valued at: its limit price, or a fresh enough last market price. */
export function referencePriceOf(
  ctx: Pick<RiskContext, 'order' | 'lastPrice' | 'maxPriceAgeMs' | 'now'>,
): ReferencePrice | undefined {
  const { order, now } = ctx;
  switch (order.type) {
    case OrderType.Limit:
      return order.price === undefined ? undefined : { price: money(order.price), source: 'limit' };
    case OrderType.Market: {
      const last = freshLastPrice(ctx);
      return last ? { price: last.price, source: 'market' } : undefined;
    }
    default: {
      const unreachable: never = order.type;
      throw new Error(`unknown order type ${String(unreachable)} at ${now.toISOString()}`);
    }
  }
}

/** The last market price if it is at most maxPriceAgeMs old. */
export function freshLastPrice(
  ctx: Pick<RiskContext, 'lastPrice' | 'maxPriceAgeMs' | 'now'>,
): MarketPrice | undefined {
  const { lastPrice, maxPriceAgeMs, now } = ctx;
  return lastPrice && priceAgeMs(lastPrice, now) <= maxPriceAgeMs ? lastPrice : undefined;
}

export function priceAgeMs(price: MarketPrice, now: Date): number {
  return now.getTime() - price.at.getTime();
}

/** Runs the rules in order; the first violation rejects. Accepted orders carry their notional. */
export function runChecks(rules: readonly RiskRule[], ctx: RiskContext): RiskDecision {
  for (const rule of rules) {
    const violation = rule.check(ctx);
    if (violation) return { status: OrderStatus.Rejected, violation };
  }
  const limit = ctx.limits[LimitName.MaxOrderNotional];
  const ref = referencePriceOf(ctx);
  if (!ref) return { status: OrderStatus.Accepted, figures: { limit } };
  return {
    status: OrderStatus.Accepted,
    figures: { limit, notional: money(ctx.order.quantity).times(ref.price), referencePrice: ref.price },
  };
}
