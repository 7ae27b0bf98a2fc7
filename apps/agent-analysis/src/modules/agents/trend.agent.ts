import type { Candle } from '../market-feed/candle';
import { abstain, convinced, fmt, type Agent, type Signal } from './agent';
import { atr, ema } from './indicators';

const FAST = 12;
const SLOW = 26;
const ATR_PERIOD = 14;
/** A fast/slow EMA spread of this many ATRs is full conviction. */
const FULL_CONVICTION_ATRS = 3;

/** Trend following: EMA(12) against EMA(26); the spread, measured in ATRs, is the conviction. */
export class TrendAgent implements Agent {
  readonly name = 'trend' as const;

  evaluate(candles: readonly Candle[]): Signal {
    const fast = ema(candles, FAST);
    const slow = ema(candles, SLOW);
    const range = atr(candles, ATR_PERIOD);
    if (fast === null || slow === null || range === null) {
      return abstain(
        this.name,
        `not enough candles (${candles.length}) for EMA(${SLOW}) and ATR(${ATR_PERIOD})`,
      );
    }
    const values = `EMA(${FAST})=${fmt(fast)} EMA(${SLOW})=${fmt(slow)} ATR(${ATR_PERIOD})=${fmt(range)}`;
    if (range === 0) return abstain(this.name, `${values}: market does not move`);
    const spread = (fast - slow) / range;
    const trend = spread > 0 ? 'uptrend' : 'downtrend';
    return convinced(
      this.name,
      spread / FULL_CONVICTION_ATRS,
      `${trend}: ${values}, spread ${fmt(spread)} ATR`,
    );
  }
}
