import { Money, money } from '@desk/contracts';
import type { MarketPrice } from '@desk/platform';

interface Sample {
  readonly at: number;
  readonly price: Money;
}

export interface PriceMove {
  readonly symbol: string;
  readonly from: Money;
  readonly to: Money;
  /** |to - from| / from. */
  readonly move: Money;
}

/**
 * Recent prices per symbol (only new ones: a price is sampled when its timestamp moves), for the
 * volatility breaker. The move of a symbol is its latest price against the price one window earlier (the
 * last sample at or before that moment, or the oldest one while the history is shorter than the window).
 * A single outlier moves it for exactly one sample, not for the whole window.
 */
export class PriceHistory {
  private readonly samples = new Map<string, Sample[]>();

  constructor(private readonly windowMs: number) {}

  record(prices: Iterable<MarketPrice>): void {
    for (const p of prices) {
      const list = this.samples.get(p.symbol) ?? [];
      const latest = list[list.length - 1];
      if (latest && latest.at >= p.at.getTime()) continue;
      list.push({ at: p.at.getTime(), price: p.price });
      // Keep the window and the one sample just before it (the reference).
      const cutoff = p.at.getTime() - this.windowMs;
      while (list.length > 2 && (list[1]?.at ?? Infinity) <= cutoff) list.shift();
      this.samples.set(p.symbol, list);
    }
  }

  moves(): PriceMove[] {
    const out: PriceMove[] = [];
    for (const [symbol, list] of this.samples) {
      const latest = list[list.length - 1];
      if (!latest || list.length < 2) continue;
      const cutoff = latest.at - this.windowMs;
      const reference = [...list].reverse().find((s) => s.at <= cutoff) ?? list[0];
      if (!reference || reference.price.lte(0)) continue;
      out.push({
        symbol,
        from: reference.price,
        to: latest.price,
        move: latest.price.minus(reference.price).abs().dividedBy(reference.price),
      });
    }
    return out;
  }
}

/** The n-th largest move (n = how many symbols must move at once): the volatility breaker's measure. */
export function nthLargestMove(moves: readonly PriceMove[], n: number): Money {
  const sorted = moves.map((m) => m.move).sort((a, b) => b.comparedTo(a));
  return sorted[n - 1] ?? money('0');
}
