import {
  OrderSide,
  OrderType,
  RiskReasonCode,
  TradingState,
  money,
  toWire,
  type Money,
  type OrderParams,
} from '@desk/contracts';

export interface Verdict {
  readonly allowed: boolean;
  readonly reasonCode?: RiskReasonCode;
  readonly reason?: string;
}

const ALLOWED: Verdict = { allowed: true };

/**
 * Does an order reduce execution's own position in its symbol: on the other side, and small enough that,
 * with the active orders ahead of it that may fill first (`reserved`), it never takes the position through zero?
 */
export function reducesPosition(position: Money, side: OrderSide, quantity: Money, reserved: Money): boolean {
  if (position.isZero()) return false;
  const needed = quantity.plus(reserved);
  return side === OrderSide.Sell
    ? !position.isNegative() && needed.lte(position)
    : position.isNegative() && needed.lte(position.abs());
}

/**
 * May execution place (or let fill) this order now? The trading state is re-read before every placement
 * and every fill: HALTED lets through only risk's reduce-only closes, REDUCING only orders that reduce the
 * position, and a reduce-only order must reduce in any state.
 */
export function placementVerdict(state: TradingState, reduceOnly: boolean, reduces: boolean): Verdict {
  if (reduceOnly && !reduces) {
    return {
      allowed: false,
      reasonCode: RiskReasonCode.ReduceOnly,
      reason: 'reduce-only order would not reduce the position',
    };
  }
  switch (state) {
    case TradingState.Active:
      return ALLOWED;
    case TradingState.Reducing:
      return reduces
        ? ALLOWED
        : {
            allowed: false,
            reasonCode: RiskReasonCode.ReduceOnly,
            reason: 'trading is reducing: only orders that reduce a position are placed',
          };
    case TradingState.Halted:
      return reduceOnly
        ? ALLOWED
        : { allowed: false, reasonCode: RiskReasonCode.TradingHalted, reason: 'trading is halted' };
    default: {
      const unreachable: never = state;
      return {
        allowed: false,
        reasonCode: RiskReasonCode.TradingHalted,
        reason: `unknown state ${String(unreachable)}`,
      };
    }
  }
}

/** Notional as execution sees it: quantity x limit price, or x the last market price; unknown without one. */
export function notionalOf(order: OrderParams, lastPrice: Money | undefined): Money | undefined {
  const price = order.type === OrderType.Limit && order.price !== undefined ? money(order.price) : lastPrice;
  return price ? money(order.quantity).times(price) : undefined;
}

/** The two-man rule, computed by execution itself: over the threshold, of unknown size, or on a live venue. */
export function isCritical(notional: Money | undefined, threshold: Money, liveVenue: boolean): boolean {
  return liveVenue || notional === undefined || notional.gt(threshold);
}

/** The detail stored with an event and shown in GET /v1/orders/:id: "REASON_CODE: text". */
export function reasonDetail(reasonCode: string, reason: string): string {
  return `${reasonCode}: ${reason}`.slice(0, 500);
}

export function describeNotional(notional: Money | undefined, threshold: Money): string {
  return notional === undefined
    ? `notional unknown (no market price), approval threshold ${toWire(threshold)}`
    : `notional ${toWire(notional)} over the approval threshold ${toWire(threshold)}`;
}
