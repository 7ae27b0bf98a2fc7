import type { Candle } from '../market-feed/candle';
import { abstain, convinced, fmt, type Agent, type Signal } from './agent';
import { bollinger, bollingerWidths, lastClose, median } from './indicators';

const BB_PERIOD = 20;
const BB_DEVIATIONS = 2;
/** Bandwidths the current one is compared with. */
const LOOKBACK = 50;
/** Expansion (current / median bandwidth) below this is an ordinary market: no opinion. */
const MIN_EXPANSION = 1.25;
/** Above this the market is too wild to follow: stand aside. */
const MAX_EXPANSION = 4;
/** Expansion at which conviction is full. */
const FULL_EXPANSION = 2.5;

/**
 * Volatility regime: compares the Bollinger bandwidth with its recent median. In a quiet or ordinary
 * regime, and in an extreme one, it abstains; when volatility expands it follows the breakout side.
 */
export class VolatilityAgent implements Agent {
  readonly name = 'volatility' as const;

  evaluate(candles: readonly Candle[]): Signal {
    const widths = bollingerWidths(candles, BB_PERIOD, BB_DEVIATIONS);
    const bands = bollinger(candles, BB_PERIOD, BB_DEVIATIONS);
    const close = lastClose(candles);
    const current = widths.at(-1);
    if (widths.length < LOOKBACK || bands === null || current === undefined || close === null) {
      return abstain(
        this.name,
        `not enough candles (${candles.length}) for ${LOOKBACK} Bollinger bandwidths`,
      );
    }
    const typical = median(widths.slice(-LOOKBACK));
    const values = `bandwidth=${fmt(current)} median(${LOOKBACK})=${fmt(typical)}`;
    if (typical <= 0) return abstain(this.name, `${values}: no volatility history`);
    const expansion = current / typical;
    const regime = `${values} expansion=${fmt(expansion)}`;
    if (expansion < MIN_EXPANSION) return abstain(this.name, `normal volatility: ${regime}`);
    if (expansion > MAX_EXPANSION) return abstain(this.name, `extreme volatility, standing aside: ${regime}`);
    const side = close >= bands.middle ? 1 : -1;
    const strength = Math.min(1, (expansion - 1) / (FULL_EXPANSION - 1));
    const breakout = side > 0 ? 'upside' : 'downside';
    return convinced(
      this.name,
      side * strength,
      `volatility expanding, ${breakout} breakout: ${regime}, close=${fmt(close)} middle=${fmt(bands.middle)}`,
    );
  }
}
