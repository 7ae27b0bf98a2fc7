import { Money, money } from './money';
import { OrderSide } from './orders';

/** One fill as it moves a position: full quantity, price and fee, all in the quote currency. */
export interface PositionFill {
  readonly side: OrderSide;
  readonly quantity: Money;
  readonly price: Money;
  readonly fee: Money;
}

/**
 * A net position's amounts: signed quantity (negative = short), average entry price of the open
 * quantity, realized P&L (gross, in the quote currency) and fees paid (kept apart from the P&L).
 * Execution keeps the desk's positions with this arithmetic; risk keeps its own view with the same.
 */
export interface PositionAmounts {
  readonly quantity: Money;
  readonly averagePrice: Money;
  readonly realizedPnl: Money;
  readonly feesPaid: Money;
}

/** Wire decimals are limited to 18 places; a weighted average may have more. */
const MAX_DECIMALS = 18;

export const FLAT_POSITION: PositionAmounts = Object.freeze({
  quantity: money('0'),
  averagePrice: money('0'),
  realizedPnl: money('0'),
  feesPaid: money('0'),
});

/**
 * The amounts after a fill, and the P&L it realized. Adding to the position moves the average entry price
 * (weighted); reducing realizes P&L on the closed quantity at the old average; flipping through zero opens
 * the remainder at the fill price.
 */
export function applyFill(p: PositionAmounts, fill: PositionFill): PositionAmounts & { realized: Money } {
  const delta = fill.side === OrderSide.Buy ? fill.quantity : fill.quantity.negated();
  const sum = p.quantity.plus(delta);
  const quantity = sum.isZero() ? money('0') : sum;
  const feesPaid = p.feesPaid.plus(fill.fee);
  const increasing = p.quantity.isZero() || p.quantity.isNegative() === delta.isNegative();

  if (increasing) {
    const averagePrice = p.quantity
      .abs()
      .times(p.averagePrice)
      .plus(fill.quantity.times(fill.price))
      .dividedBy(quantity.abs())
      .toDecimalPlaces(MAX_DECIMALS, Money.ROUND_HALF_EVEN);
    return { quantity, averagePrice, realizedPnl: p.realizedPnl, feesPaid, realized: money('0') };
  }

  const closed = Money.min(p.quantity.abs(), fill.quantity);
  const perUnit = p.quantity.isPositive()
    ? fill.price.minus(p.averagePrice)
    : p.averagePrice.minus(fill.price);
  const realized = closed.times(perUnit);
  let averagePrice: Money;
  if (quantity.isZero()) averagePrice = money('0');
  else if (quantity.isNegative() === p.quantity.isNegative()) averagePrice = p.averagePrice;
  else averagePrice = fill.price;
  return { quantity, averagePrice, realizedPnl: p.realizedPnl.plus(realized), feesPaid, realized };
}

/** P&L of the open quantity at a mark price: (mark − average) × quantity, long or short. */
export function unrealizedPnl(p: Pick<PositionAmounts, 'quantity' | 'averagePrice'>, mark: Money): Money {
  return p.quantity.times(mark.minus(p.averagePrice));
}
