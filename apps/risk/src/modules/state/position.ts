import {
  Money,
  applyFill,
  money,
  unrealizedPnl,
  type PositionAmounts,
  type PositionFill,
} from '@desk/contracts';

/**
 * Risk's own view of a net position, built only from execution reports (never from execution's tables),
 * with execution's arithmetic (`applyFill`), plus the episode: a counter that moves each time the position
 * opens from flat or flips side, so a stop-loss can fire once per episode.
 */
export class Position implements PositionAmounts {
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
    const next = applyFill(this, fill);
    const opensOrFlips =
      !next.quantity.isZero() &&
      (this.quantity.isZero() || next.quantity.isNegative() !== this.quantity.isNegative());
    return new Position(
      this.symbol,
      next.quantity,
      next.averagePrice,
      next.realizedPnl,
      next.feesPaid,
      opensOrFlips ? this.episode + 1 : this.episode,
    );
  }

  /** P&L of the open quantity at a mark price. */
  unrealizedAt(mark: Money): Money {
    return unrealizedPnl(this, mark);
  }
}
