import { money, type MarketSpec } from '@desk/contracts';
import { HISTORY_CANDLES, type Candle, type CandlesBySymbol } from './candle';
import type { MarketFeed } from './market-feed';
import { MarketFeedError } from './market-feed.error';

/** ccxt's OHLCV row: [timestamp ms, open, high, low, close, volume], numbers (or undefined when missing). */
export type OhlcvRow = readonly (number | undefined)[];

/** The part of a ccxt exchange this feed uses (so tests can pass a fake). */
export interface OhlcvSource {
  fetchOHLCV(symbol: string, timeframe?: string, since?: number, limit?: number): Promise<OhlcvRow[]>;
}

/** Live public candles from an exchange through ccxt: each step fetches the recent candles of every market. */
export class CcxtFeed implements MarketFeed {
  readonly kind = 'ccxt';

  constructor(
    private readonly exchange: OhlcvSource,
    private readonly markets: readonly MarketSpec[],
    private readonly timeframe: string,
    private readonly history = HISTORY_CANDLES,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async next(): Promise<CandlesBySymbol> {
    const timeframeMs = timeframeMillis(this.timeframe);
    const fetched = await Promise.all(
      this.markets.map(async (m) => {
        const rows = await this.exchange.fetchOHLCV(m.symbol, this.timeframe, undefined, this.history);
        const fetchedAt = this.clock();
        return [m.symbol, rows.map((row) => candleFromOhlcv(row, m, timeframeMs, fetchedAt))] as const;
      }),
    );
    return new Map(fetched.filter(([, candles]) => candles.length > 0).map(([s, c]) => [s, [...c]]));
  }
}

const UNIT_MS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  // The shortest month: a candle is never taken to close later than it can.
  M: 28 * 86_400_000,
};

/** "15m" → 900000. */
export function timeframeMillis(timeframe: string): number {
  const match = /^(\d{1,3})([smhdwM])$/.exec(timeframe);
  const unit = match?.[2] === undefined ? undefined : UNIT_MS[match[2]];
  if (!match || unit === undefined) throw new MarketFeedError(`unknown timeframe "${timeframe}"`);
  return Number(match[1]) * unit;
}

/**
 * ccxt gives floats; they become Decimals here, prices rounded to the market's precision so a float
 * artefact such as 0.30000000000000004 never reaches the platform. A candle's row carries the exchange's
 * time of its opening: its close is the market price as of its end, or, for the candle still forming,
 * as of the fetch at the latest. An exchange serving old candles serves old prices, and they look old.
 */
export function candleFromOhlcv(
  row: OhlcvRow,
  market: MarketSpec,
  timeframeMs: number,
  fetchedAt: Date,
): Candle {
  const [time, open, high, low, close, volume] = row;
  const values = [time, open, high, low, close, volume];
  if (row.length < 6 || values.some((v) => typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
    throw new MarketFeedError(`${market.symbol}: malformed OHLCV row ${JSON.stringify(row)}`);
  }
  const price = (v: number | undefined) => money(String(v)).toDecimalPlaces(market.pricePrecision);
  const opened = time as number;
  return {
    time: new Date(opened),
    // A candle opening after the fetch keeps its (future) time: it is refused, never made to look fresh.
    closedAt: new Date(Math.max(opened, Math.min(opened + timeframeMs, fetchedAt.getTime()))),
    open: price(open),
    high: price(high),
    low: price(low),
    close: price(close),
    volume: money(String(volume)),
  };
}

/** Loads ccxt only when this feed is chosen (it is large) and builds a public, keyless client. */
export async function createCcxtFeed(
  exchangeId: string,
  markets: readonly MarketSpec[],
  timeframe: string,
): Promise<CcxtFeed> {
  const ccxt = (await import('ccxt')) as unknown as Record<string, unknown>;
  const Exchange = ccxt[exchangeId];
  if (typeof Exchange !== 'function')
    throw new MarketFeedError(`MARKET_FEED_EXCHANGE: unknown ccxt exchange "${exchangeId}"`);
  const exchange = new (Exchange as new (options: object) => OhlcvSource & { has: Record<string, unknown> })({
    enableRateLimit: true,
  });
  if (!exchange.has['fetchOHLCV']) throw new MarketFeedError(`${exchangeId} does not provide OHLCV data`);
  return new CcxtFeed(exchange, markets, timeframe);
}
