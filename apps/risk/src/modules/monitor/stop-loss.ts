import { Money, money } from '@desk/contracts';
import type { Position } from '../state/position';

export interface StopLossCheck {
  readonly stopPrice: Money;
  readonly hit: boolean;
}

/**
 * A long position's stop is its entry price less the percentage, a short's the entry price plus it; the
 * market crossing it (at or through) closes the position.
 */
export function stopLossCheck(position: Position, pct: Money, last: Money): StopLossCheck | undefined {
  if (position.quantity.isZero() || position.averagePrice.lte(0)) return undefined;
  const one = money('1');
  if (position.quantity.isNegative()) {
    const stopPrice = position.averagePrice.times(one.plus(pct));
    return { stopPrice, hit: last.gte(stopPrice) };
  }
  const stopPrice = position.averagePrice.times(one.minus(pct));
  return { stopPrice, hit: last.lte(stopPrice) };
}

/** The stop-loss fraction for a symbol: its own, else the one for every symbol ("*"), else none. */
export function stopLossPctFor(config: Readonly<Record<string, string>>, symbol: string): Money | undefined {
  const pct = config[symbol] ?? config['*'];
  return pct === undefined ? undefined : money(pct);
}
