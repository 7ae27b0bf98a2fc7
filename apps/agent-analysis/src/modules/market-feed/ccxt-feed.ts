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
  ) {}

  async next(): Promise<CandlesBySymbol> {
    const fetched = await Promise.all(
      this.markets.map(async (m) => {
        const rows = await this.exchange.fetchOHLCV(m.symbol, this.timeframe, undefined, this.history);
        return [m.symbol, rows.map((row) => candleFromOhlcv(row, m))] as const;
      }),
    );
    return new Map(fetched.filter(([, candles]) => candles.length > 0).map(([s, c]) => [s, [...c]]));
  }
}

/**
 * ccxt gives floats; they become Decimals here, prices rounded to the market's precision so a float
 * artefact such as 0.30000000000000004 never reaches the platform.
 */
export function candleFromOhlcv(row: OhlcvRow, market: MarketSpec): Candle {
  const [time, open, high, low, close, volume] = row;
  const values = [time, open, high, low, close, volume];
  if (row.length < 6 || values.some((v) => typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
    throw new MarketFeedError(`${market.symbol}: malformed OHLCV row ${JSON.stringify(row)}`);
  }
  const price = (v: number | undefined) => money(String(v)).toDecimalPlaces(market.pricePrecision);
  return {
    time: new Date(time as number),
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
