import type { Money } from '@desk/contracts';

/** One OHLCV candle. Prices and volume are Decimals: they become numbers only inside the indicator adapter. */
export interface Candle {
  /** When the candle opened. */
  readonly time: Date;
  /**
   * When `close` was the market's last price, by the venue's clock (the candle's end, or the exchange's
   * time for a candle still forming): what a published price carries, and what its staleness is judged on.
   */
  readonly closedAt: Date;
  readonly open: Money;
  readonly high: Money;
  readonly low: Money;
  readonly close: Money;
  readonly volume: Money;
}

/** Recent candles of each enabled symbol, oldest first. */
export type CandlesBySymbol = Map<string, Candle[]>;

/** Number of candles a feed returns per symbol: enough warm-up for every agent's indicators. */
export const HISTORY_CANDLES = 120;
