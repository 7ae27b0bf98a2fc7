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
 * Risk's own view of a net position, built only from execution reports (never from execution's tables):
 * signed quantity (negative = short), average entry price of the open quantity, realized P&L (gross, quote
 * currency), fees paid, and the episode: a counter that moves each time the position opens from flat or
 * flips side, so a stop-loss can fire once per episode.
 * Same arithmetic as execution's position (apps/execution/src/modules/orders/position.ts).
 */
export class Position {
  constructor(
    readonly symbol: string,
    readonly quantity: Money,
    readonly averagePrice: Money,
    readonly realizedPnl: Money,
    readonly feesPaid: Money,
    readonly episode: number,
  ) {}

  static flat(symbol: string): Position {
    const zero = money('0');
    return new Position(symbol, zero, zero, zero, zero, 0);
  }

  apply(fill: PositionFill): Position {
    const delta = fill.side === OrderSide.Buy ? fill.quantity : fill.quantity.negated();
    const sum = this.quantity.plus(delta);
    const quantity = sum.isZero() ? money('0') : sum;
    const feesPaid = this.feesPaid.plus(fill.fee);
    const opensOrFlips =
      !quantity.isZero() && (this.quantity.isZero() || quantity.isNegative() !== this.quantity.isNegative());
    const episode = opensOrFlips ? this.episode + 1 : this.episode;
    const increasing = this.quantity.isZero() || this.quantity.isNegative() === delta.isNegative();

    if (increasing) {
      const averagePrice = this.quantity
        .abs()
        .times(this.averagePrice)
        .plus(fill.quantity.times(fill.price))
        .dividedBy(quantity.abs())
        .toDecimalPlaces(MAX_DECIMALS, Money.ROUND_HALF_EVEN);
      return new Position(this.symbol, quantity, averagePrice, this.realizedPnl, feesPaid, episode);
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
    return new Position(
      this.symbol,
      quantity,
      averagePrice,
      this.realizedPnl.plus(realized),
      feesPaid,
      episode,
    );
  }

  /** P&L of the open quantity at a mark price. */
  unrealizedAt(mark: Money): Money {
    return this.quantity.times(mark.minus(this.averagePrice));
  }
}
