import { toWire, type Money } from '@desk/contracts';

export interface MarketPrice {
  symbol: string;
  price: Money;
  /** When the venue traded at this price: the exchange's (or the candle's) time, never when it was published. */
  at: Date;
}

/**
 * How far in the future a price's time may be, for clocks that disagree a little (the venue's, the feed's,
 * ours). A price dated further ahead would look fresh for longer than it is, so it is refused.
 */
export const MARKET_PRICE_CLOCK_SKEW_MS = 5_000;

/**
 * Why a price must not be used (undefined: it may be). Zero, negative and non-finite prices value every
 * order at nothing; a price from the future passes every age check. Staleness is the reader's own limit
 * (priced on `at`), not judged here.
 */
export function marketPriceProblem(
  price: Pick<MarketPrice, 'price' | 'at'>,
  now: Date,
  clockSkewMs = MARKET_PRICE_CLOCK_SKEW_MS,
): string | undefined {
  if (!price.price.isFinite()) return `price ${price.price.toString()} is not a finite number`;
  if (!price.price.gt(0)) return `price ${toWire(price.price)} is not positive`;
  const at = price.at.getTime();
  if (!Number.isFinite(at)) return 'the price carries no valid time';
  const ahead = at - now.getTime();
  if (ahead > clockSkewMs) {
    return (
      `price dated ${price.at.toISOString()} is ${ahead} ms in the future ` +
      `(clock skew allowed: ${clockSkewMs} ms)`
    );
  }
  return undefined;
}
