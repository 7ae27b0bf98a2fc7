import { Money, OrderSide, money } from '@desk/contracts';

export interface PositionFill {
  readonly side: OrderSide;
  readonly quantity: Money;
  readonly price: Money;
  readonly fee: Money;
}

/** Wire decimals are limited to 18 places; a weighted average may have more. */
const MAX_DECIMALS = 18;

/**
 * A net position in one symbol: signed quantity (negative = short), average entry price of the open
 * quantity, realized P&L (gross, in the quote currency) and fees paid (kept apart from the P&L).
 */
export class Position {
  constructor(
    readonly symbol: string,
    readonly quantity: Money,
    readonly averagePrice: Money,
    readonly realizedPnl: Money,
    readonly feesPaid: Money,
  ) {}

  static flat(symbol: string): Position {
    const zero = money('0');
    return new Position(symbol, zero, zero, zero, zero);
  }

  /**
   * The position after a fill. Adding to the position moves the average entry price (weighted); reducing
   * realizes P&L on the closed quantity at the old average; flipping through zero opens the remainder at the
   * fill price.
   */
  apply(fill: PositionFill): { position: Position; realized: Money } {
    const delta = fill.side === OrderSide.Buy ? fill.quantity : fill.quantity.negated();
    const sum = this.quantity.plus(delta);
    const quantity = sum.isZero() ? money('0') : sum;
    const feesPaid = this.feesPaid.plus(fill.fee);
    const increasing = this.quantity.isZero() || this.quantity.isNegative() === delta.isNegative();

    if (increasing) {
      const averagePrice = this.quantity
        .abs()
        .times(this.averagePrice)
        .plus(fill.quantity.times(fill.price))
        .dividedBy(quantity.abs())
        .toDecimalPlaces(MAX_DECIMALS, Money.ROUND_HALF_EVEN);
      return {
        position: new Position(this.symbol, quantity, averagePrice, this.realizedPnl, feesPaid),
        realized: money('0'),
      };
    }

    const closed = Money.min(this.quantity.abs(), fill.quantity);
    const perUnit = this.quantity.isPositive()
      ? fill.price.minus(this.averagePrice)
      : this.averagePrice.minus(fill.price);
    const realized = closed.times(perUnit);
    let averagePrice: Money;
    if (quantity.isZero()) averagePrice = money('0');
    else if (quantity.isNegative() === this.quantity.isNegative()) averagePrice = this.averagePrice;
    else averagePrice = fill.price;
    return {
      position: new Position(this.symbol, quantity, averagePrice, this.realizedPnl.plus(realized), feesPaid),
      realized,
    };
  }
}
