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

export interface RiskLimits {
  readonly maxOrderNotional: Money;
  readonly maxPriceAgeMs: number;
}

/**
 * Everything the rules may look at, gathered before any rule runs, so rules are pure functions of one
 * snapshot (and the snapshot is what the decision is explained by). Later rules add fields here
 * (positions, trading state) rather than reading state themselves.
 */
export interface RiskContext {
  readonly order: OrderParams;
  /** The market, when the symbol is both enabled (TRADING_SYMBOLS) and in the catalog. */
  readonly market: MarketSpec | undefined;
  /** Last market price of the symbol; loaded only for market orders (a limit order is valued at its price). */
  readonly lastPrice: MarketPrice | undefined;
  readonly limits: RiskLimits;
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
export function referencePriceOf(ctx: RiskContext): ReferencePrice | undefined {
  const { order, lastPrice, limits, now } = ctx;
  switch (order.type) {
    case OrderType.Limit:
      return order.price === undefined ? undefined : { price: money(order.price), source: 'limit' };
    case OrderType.Market:
      if (!lastPrice || priceAgeMs(lastPrice, now) > limits.maxPriceAgeMs) return undefined;
      return { price: lastPrice.price, source: 'market' };
    default: {
      const unreachable: never = order.type;
      throw new Error(`unknown order type ${String(unreachable)}`);
    }
  }
}

export function priceAgeMs(price: MarketPrice, now: Date): number {
  return now.getTime() - price.at.getTime();
}

/** Runs the rules in order; the first violation rejects. */
export function runChecks(rules: readonly RiskRule[], ctx: RiskContext): RiskDecision {
  for (const rule of rules) {
    const violation = rule.check(ctx);
    if (violation) return { status: OrderStatus.Rejected, violation };
  }
  const ref = referencePriceOf(ctx);
  if (!ref) return { status: OrderStatus.Accepted, figures: { limit: ctx.limits.maxOrderNotional } };
  return {
    status: OrderStatus.Accepted,
    figures: {
      limit: ctx.limits.maxOrderNotional,
      notional: money(ctx.order.quantity).times(ref.price),
      referencePrice: ref.price,
    },
  };
}
