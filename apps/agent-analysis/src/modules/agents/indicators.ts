import { ATR, BollingerBands, BollingerBandsWidth, EMA, RSI, getMedian } from 'trading-signals';
import type { Candle } from '../market-feed/candle';

/*
 * The one boundary where prices become JavaScript numbers: the indicator library works on numbers.
 * Nothing computed here is ever a price or quantity the platform trades on; it only shapes convictions.
 */

function closes(candles: readonly Candle[]): number[] {
  return candles.map((c) => c.close.toNumber());
}

/** The current (last) close; null without candles. */
export function lastClose(candles: readonly Candle[]): number | null {
  return candles.at(-1)?.close.toNumber() ?? null;
}

/** Last value of an exponential moving average of the closes; null before the average is stable. */
export function ema(candles: readonly Candle[], period: number): number | null {
  const indicator = new EMA(period);
  for (const close of closes(candles)) indicator.add(close);
  return indicator.isStable ? indicator.getResult() : null;
}

/** Last average true range (Wilder); null without enough candles. */
export function atr(candles: readonly Candle[], period: number): number | null {
  const indicator = new ATR(period);
  for (const c of candles)
    indicator.add({ high: c.high.toNumber(), low: c.low.toNumber(), close: c.close.toNumber() });
  return indicator.getResult();
}

/** Last relative strength index (0-100); null without enough candles. */
export function rsi(candles: readonly Candle[], period: number): number | null {
  const indicator = new RSI(period);
  for (const close of closes(candles)) indicator.add(close);
  return indicator.getResult();
}

export interface Bands {
  upper: number;
  middle: number;
  lower: number;
}

/** Last Bollinger bands of the closes; null without enough candles. */
export function bollinger(candles: readonly Candle[], period: number, deviations: number): Bands | null {
  const indicator = new BollingerBands(period, deviations);
  for (const close of closes(candles)) indicator.add(close);
  return indicator.getResult();
}

/** Bollinger bandwidth ((upper - lower) / middle) after every candle once the bands exist, oldest first. */
export function bollingerWidths(candles: readonly Candle[], period: number, deviations: number): number[] {
  const indicator = new BollingerBandsWidth(new BollingerBands(period, deviations));
  const out: number[] = [];
  for (const close of closes(candles)) {
    const width = indicator.add(close);
    if (width !== null) out.push(width);
  }
  return out;
}

export function median(values: number[]): number {
  return getMedian(values);
}
