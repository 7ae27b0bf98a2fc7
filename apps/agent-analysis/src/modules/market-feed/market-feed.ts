import type { CandlesBySymbol } from './candle';

export const MARKET_FEED = Symbol('MARKET_FEED');

/**
 * A source of market data. Each call is one step: it advances the feed (a new simulated candle, the next
 * row of a replay, a fresh fetch) and returns the recent candles of every enabled symbol. An empty map
 * means the feed has nothing new (a finished replay).
 */
export interface MarketFeed {
  readonly kind: string;
  next(): Promise<CandlesBySymbol>;
}
