import type { Candle } from '../market-feed/candle';
import { abstain, convinced, fmt, type Agent, type Signal } from './agent';
import { bollinger, lastClose, rsi } from './indicators';

const BB_PERIOD = 20;
const BB_DEVIATIONS = 2;
const RSI_PERIOD = 14;
/** Below this the price is not stretched enough to bet on a return to the mean. */
const MIN_STRETCH = 0.5;

/**
 * Mean reversion: bets against a stretched price. The stretch averages where the close sits in the
 * Bollinger bands (+1 at the upper band) and how far RSI is from 50 (+1 at RSI 100).
 */
export class MeanReversionAgent implements Agent {
  readonly name = 'mean-reversion' as const;

  evaluate(candles: readonly Candle[]): Signal {
    const bands = bollinger(candles, BB_PERIOD, BB_DEVIATIONS);
    const strength = rsi(candles, RSI_PERIOD);
    const close = lastClose(candles);
    if (bands === null || strength === null || close === null) {
      return abstain(
        this.name,
        `not enough candles (${candles.length}) for Bollinger(${BB_PERIOD}) and RSI(${RSI_PERIOD})`,
      );
    }
    const half = bands.upper - bands.middle;
    const values = `close=${fmt(close)} BB(${BB_PERIOD},${BB_DEVIATIONS})=${fmt(bands.lower)}/${fmt(bands.middle)}/${fmt(bands.upper)} RSI(${RSI_PERIOD})=${fmt(strength)}`;
    if (half <= 0) return abstain(this.name, `${values}: bands have no width`);
    const bandPosition = Math.max(-1, Math.min(1, (close - bands.middle) / half));
    const stretch = (bandPosition + (strength - 50) / 50) / 2;
    if (Math.abs(stretch) < MIN_STRETCH)
      return abstain(this.name, `${values}: not stretched (${fmt(stretch)})`);
    const view = stretch > 0 ? 'overbought, expecting a pullback' : 'oversold, expecting a rebound';
    return convinced(this.name, -stretch, `${view}: ${values}`);
  }
}
