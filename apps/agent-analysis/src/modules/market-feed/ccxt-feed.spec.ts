import { describe, expect, it } from '@jest/globals';
import { MARKET_CATALOG, toWire } from '@desk/contracts';
import { CcxtFeed, candleFromOhlcv, type OhlcvRow, type OhlcvSource } from './ccxt-feed';

const sol = MARKET_CATALOG.find((m) => m.symbol === 'SOL/USDT')!;
const MINUTE = 60_000;
const later = new Date('2025-01-01T00:00:00Z');

class FakeExchange implements OhlcvSource {
  readonly calls: unknown[][] = [];
  constructor(private readonly rows: Record<string, OhlcvRow[]>) {}
  fetchOHLCV(symbol: string, timeframe?: string, since?: number, limit?: number): Promise<OhlcvRow[]> {
    this.calls.push([symbol, timeframe, since, limit]);
    return Promise.resolve(this.rows[symbol] ?? []);
  }
}

describe('ccxt OHLCV mapping', () => {
  it('turns ccxt rows into Decimal candles, rounding float artefacts to the market precision', () => {
    const c = candleFromOhlcv(
      [1704067200000, 150.1, 0.1 + 150.2, 149.9, 150.05, 1234.5678],
      sol,
      MINUTE,
      later,
    );
    expect(c.time.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(toWire(c.open)).toBe('150.1');
    expect(toWire(c.high)).toBe('150.3');
    expect(toWire(c.low)).toBe('149.9');
    expect(toWire(c.close)).toBe('150.05');
    expect(toWire(c.volume)).toBe('1234.5678');
    expect(toWire(candleFromOhlcv([0, 1, 1, 1, 1, 1e-7], sol, MINUTE, later).volume)).toBe('0.0000001');
  });

  it('rejects rows with missing or impossible values', () => {
    expect(() => candleFromOhlcv([1704067200000, 150, undefined, 149, 150, 1], sol, MINUTE, later)).toThrow(
      /malformed OHLCV row/,
    );
    expect(() => candleFromOhlcv([1704067200000, 150, 151, 149, Number.NaN, 1], sol, MINUTE, later)).toThrow(
      /malformed/,
    );
    expect(() => candleFromOhlcv([1704067200000, 150, 151], sol, MINUTE, later)).toThrow(/malformed/);
  });

  it('fetches every market with the configured timeframe and history', async () => {
    const exchange = new FakeExchange({
      'BTC/USDT': [
        [1704067200000, 65000, 65100, 64900, 65050.5, 3],
        [1704067260000, 65050.5, 65200, 65000, 65150.25, 4],
      ],
      'SOL/USDT': [],
    });
    const markets = MARKET_CATALOG.filter((m) => m.symbol !== 'ETH/USDT');
    const feed = new CcxtFeed(exchange, markets, '5m', 100);
    const step = await feed.next();
    expect(exchange.calls).toEqual([
      ['BTC/USDT', '5m', undefined, 100],
      ['SOL/USDT', '5m', undefined, 100],
    ]);
    expect([...step.keys()]).toEqual(['BTC/USDT']);
    expect(step.get('BTC/USDT')!.map((c) => toWire(c.close))).toEqual(['65050.5', '65150.25']);
  });

  it("stamps each close with the exchange's candle time, never with the time it was fetched", async () => {
    const opened = Date.parse('2024-01-01T00:00:00Z');
    // An exchange still serving a candle from a day ago: its price is a day old, whenever it is fetched.
    const now = new Date(opened + 86_400_000);
    const stale = new CcxtFeed(
      new FakeExchange({ 'BTC/USDT': [[opened, 65000, 65100, 64900, 65050.5, 3]] }),
      [MARKET_CATALOG.find((m) => m.symbol === 'BTC/USDT')!],
      '5m',
      100,
      () => now,
    );
    expect((await stale.next()).get('BTC/USDT')!.at(-1)!.closedAt.toISOString()).toBe(
      '2024-01-01T00:05:00.000Z',
    );
    // The candle still forming: its close is the price as of the fetch at the latest.
    const forming = candleFromOhlcv([opened, 1, 1, 1, 1, 1], sol, 5 * MINUTE, new Date(opened + 90_000));
    expect(forming.closedAt.getTime()).toBe(opened + 90_000);
    // A candle dated after the fetch keeps its future time (and is refused), never made to look fresh.
    const future = candleFromOhlcv([opened + 3_600_000, 1, 1, 1, 1, 1], sol, 5 * MINUTE, new Date(opened));
    expect(future.closedAt.getTime()).toBe(opened + 3_600_000);
  });
});
