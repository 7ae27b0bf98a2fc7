import { Money, OrderSide, money } from '@desk/contracts';
import { Position } from './position';

/** One symbol as risk sees it: the position from fills, and the accepted orders that may still fill. */
export interface SymbolBook {
  readonly position: Position;
  /** Quantity of accepted buy / sell orders not yet filled or cancelled. */
  readonly pendingBuy: Money;
  readonly pendingSell: Money;
  /** Last market price seen (any age), to value the exposure; undefined when there never was one. */
  readonly mark: Money | undefined;
}

/** Everything the exposure and loss rules measure, taken at one moment. */
export interface Book {
  readonly symbols: ReadonlyMap<string, SymbolBook>;
  /** Starting equity + realized P&L - fees + unrealized P&L at the last prices. */
  readonly equity: Money;
  /** Equity when the current trading day began (RISK_DAY_TIMEZONE). */
  readonly dayStartEquity: Money;
}

const ZERO = money('0');

export function symbolOf(book: Book, symbol: string): SymbolBook {
  return (
    book.symbols.get(symbol) ?? {
      position: Position.flat(symbol),
      pendingBuy: ZERO,
      pendingSell: ZERO,
      mark: undefined,
    }
  );
}

/** The largest absolute position the symbol can reach if every pending order on one side fills. */
export function worstCaseQuantity(s: SymbolBook): Money {
  const q = s.position.quantity;
  return Money.max(q.plus(s.pendingBuy).abs(), q.minus(s.pendingSell).abs());
}

/** The symbol with one more order pending. */
export function withOrder(s: SymbolBook, side: OrderSide, quantity: Money): SymbolBook {
  return side === OrderSide.Buy
    ? { ...s, pendingBuy: s.pendingBuy.plus(quantity) }
    : { ...s, pendingSell: s.pendingSell.plus(quantity) };
}

/**
 * An order reduces exposure when it is on the other side of the position and, with the pending orders on
 * its side, cannot take the position through zero.
 */
export function reducesPosition(s: SymbolBook, side: OrderSide, quantity: Money): boolean {
  const q = s.position.quantity;
  if (side === OrderSide.Sell) return q.isPositive() && !q.isZero() && quantity.plus(s.pendingSell).lte(q);
  return q.isNegative() && !q.isZero() && quantity.plus(s.pendingBuy).lte(q.abs());
}

/** The price exposure is valued at: the last market price, else the entry price. */
export function valuationPrice(s: SymbolBook): Money {
  return s.mark ?? s.position.averagePrice;
}

/** Sum over symbols of worst-case |position| x price; `override` replaces one symbol (a proposed order). */
export function grossExposure(
  book: Book,
  override?: { symbol: string; book: SymbolBook; price: Money },
): Money {
  let total = ZERO;
  const symbols = new Set([...book.symbols.keys(), ...(override ? [override.symbol] : [])]);
  for (const symbol of symbols) {
    if (override && symbol === override.symbol) {
      total = total.plus(worstCaseQuantity(override.book).times(override.price));
    } else {
      const s = symbolOf(book, symbol);
      total = total.plus(worstCaseQuantity(s).times(valuationPrice(s)));
    }
  }
  return total;
}

/** Equity from fills and market prices: starting capital + realized - fees + unrealized at the marks. */
export function equityOf(
  startingEquity: Money,
  positions: readonly Position[],
  marks: ReadonlyMap<string, Money>,
): Money {
  let equity = startingEquity;
  for (const p of positions) {
    equity = equity.plus(p.realizedPnl).minus(p.feesPaid);
    const mark = marks.get(p.symbol);
    if (mark && !p.quantity.isZero()) equity = equity.plus(p.unrealizedAt(mark));
  }
  return equity;
}
