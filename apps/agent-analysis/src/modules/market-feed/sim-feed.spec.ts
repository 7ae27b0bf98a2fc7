import { describe, expect, it } from '@jest/globals';
import { MARKET_CATALOG, decimalPlaces, toWire } from '@desk/contracts';
import { HISTORY_CANDLES, type CandlesBySymbol } from './candle';
import { SimulatedFeed } from './sim-feed';

const start = new Date('2024-01-01T00:00:00Z');

async function closesOf(seed: number, steps: number): Promise<string[]> {
  const feed = new SimulatedFeed({ seed, markets: MARKET_CATALOG, start });
  const out: string[] = [];
  for (let i = 0; i < steps; i++) {
    const step: CandlesBySymbol = await feed.next();
    for (const [symbol, candles] of step) out.push(`${symbol}=${toWire(candles.at(-1)!.close)}`);
  }
  return out;
}

describe('SimulatedFeed', () => {
  it('produces the same prices for the same seed and different prices for another seed', async () => {
    const a = await closesOf(42, 20);
    expect(await closesOf(42, 20)).toEqual(a);
    expect(await closesOf(43, 20)).not.toEqual(a);
  });

  it('pre-generates history from the reference price and advances one candle per step', async () => {
    const feed = new SimulatedFeed({ seed: 42, markets: MARKET_CATALOG, start, history: 50 });
    const first = await feed.next();
    const second = await feed.next();
    expect([...first.keys()]).toEqual(MARKET_CATALOG.map((m) => m.symbol));
    const btc1 = first.get('BTC/USDT')!;
    const btc2 = second.get('BTC/USDT')!;
    expect(btc1).toHaveLength(50);
    expect(btc2).toHaveLength(50);
    // The window slid by exactly one candle, one minute later.
    expect(btc2[0]).toEqual(btc1[1]);
    expect(btc2.at(-1)!.time.getTime() - btc1.at(-1)!.time.getTime()).toBe(60_000);
    expect(btc2.at(-1)!.open.eq(btc1.at(-1)!.close)).toBe(true);

    const fresh = new SimulatedFeed({ seed: 42, markets: MARKET_CATALOG, start, history: 50 });
    const oldest = (await fresh.next()).get('ETH/USDT')![0]!;
    // The very first generated candle was dropped from the window: it opened at the reference price.
    expect(
      oldest.open
        .minus(3200)
        .abs()
        .lt(3200 * 0.05),
    ).toBe(true);
  });

  it('keeps prices at the market precision and candles consistent', async () => {
    const feed = new SimulatedFeed({ seed: 7, markets: MARKET_CATALOG, start });
    const step = await feed.next();
    for (const market of MARKET_CATALOG) {
      const candles = step.get(market.symbol)!;
      expect(candles).toHaveLength(HISTORY_CANDLES);
      for (const c of candles) {
        for (const p of [c.open, c.high, c.low, c.close]) {
          expect(decimalPlaces(toWire(p))).toBeLessThanOrEqual(market.pricePrecision);
          expect(p.isPositive()).toBe(true);
        }
        expect(c.high.gte(c.open) && c.high.gte(c.close) && c.low.lte(c.open) && c.low.lte(c.close)).toBe(
          true,
        );
        expect(c.volume.isPositive()).toBe(true);
      }
    }
  });

  it('has both trending stretches and ranging stretches', async () => {
    const feed = new SimulatedFeed({ seed: 42, markets: MARKET_CATALOG, start, history: 1000 });
    const step = await feed.next();
    for (const candles of step.values()) {
      const moves: number[] = [];
      for (let i = 50; i < candles.length; i += 50) {
        moves.push(
          candles[i]!.close.div(candles[i - 50]!.close)
            .minus(1)
            .abs()
            .toNumber(),
        );
      }
      expect(Math.max(...moves)).toBeGreaterThan(0.03);
      expect(Math.min(...moves)).toBeLessThan(0.005);
    }
  });

  it('runs live on the clock when no start is given: each step closes at the time it was made, never in the future', async () => {
    let now = Date.parse('2026-06-01T12:00:00Z');
    const feed = new SimulatedFeed({
      seed: 42,
      markets: MARKET_CATALOG,
      history: 10,
      clock: () => new Date(now),
    });
    const first = (await feed.next()).get('BTC/USDT')!;
    expect(first.at(-1)!.closedAt.getTime()).toBe(now);
    expect(first.at(-2)!.closedAt.getTime()).toBeLessThanOrEqual(now);
    // Steps every 5 s (the agents' schedule), not every candle interval: the feed stays on the clock.
    for (let i = 0; i < 100; i++) {
      now += 5_000;
      const last = (await feed.next()).get('BTC/USDT')!.at(-1)!;
      expect(last.closedAt.getTime()).toBe(now);
    }
  });
});
