import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { MARKET_CATALOG, toWire } from '@desk/contracts';
import { CsvReplayFeed, parseOhlcvCsv } from './csv-feed';
import { MarketFeedError } from './market-feed.error';

const HEADER = 'timestamp,symbol,open,high,low,close,volume';
const btcOnly = MARKET_CATALOG.filter((m) => m.symbol === 'BTC/USDT');

function file(lines: string[]): string {
  return [HEADER, ...lines].join('\n') + '\n';
}

describe('parseOhlcvCsv', () => {
  it('keeps decimal strings exact and skips markets that are not enabled', () => {
    const out = parseOhlcvCsv(
      file([
        '2024-01-01T00:01:00Z,BTC/USDT,65000.10,65010.123456789012345678,64990,65005.30,1.5',
        '2024-01-01T00:00:00Z,BTC/USDT,64990,65001,64980,65000.10,2',
        '2024-01-01T00:00:00Z,ETH/USDT,3200,3201,3199,3200.5,10',
      ]),
      btcOnly,
    );
    expect([...out.keys()]).toEqual(['BTC/USDT']);
    const [first, second] = out.get('BTC/USDT')!;
    expect(first!.time.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(toWire(second!.high)).toBe('65010.123456789012345678');
    expect(toWire(second!.close)).toBe('65005.3');
  });

  it('accepts epoch milliseconds', () => {
    const out = parseOhlcvCsv(file(['1704067200000,BTC/USDT,1,2,0.5,1.5,3']), btcOnly);
    expect(out.get('BTC/USDT')![0]!.time.toISOString()).toBe('2024-01-01T00:00:00.000Z');
  });

  it('rejects a wrong header', () => {
    expect(() =>
      parseOhlcvCsv('time,symbol,open,high,low,close,volume\n1,BTC/USDT,1,1,1,1,1\n', btcOnly),
    ).toThrow(/header must be "timestamp,symbol,open,high,low,close,volume"/);
  });

  it('names every bad line', () => {
    const bad = file([
      '2024-01-01T00:00:00Z,BTC/USDT,1e3,2,0.5,1.5,3',
      'yesterday,BTC/USDT,1,2,0.5,1.5,3',
      '2024-01-01T00:02:00Z,BTC/USDT,1,0.9,0.5,1.5,3',
      '2024-01-01T00:03:00Z,BTC/USDT,1,2,0.5,1.5,-3',
    ]);
    let error: unknown;
    try {
      parseOhlcvCsv(bad, btcOnly, 'prices.csv');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MarketFeedError);
    const message = (error as Error).message;
    expect(message).toMatch(/^prices\.csv: invalid OHLCV data/);
    expect(message).toContain('line 2: open "1e3" must be a decimal string');
    expect(message).toContain('line 3: timestamp "yesterday"');
    expect(message).toContain('line 4: high is below open, close or low');
    expect(message).toContain('line 5: volume "-3" must be a decimal string');
  });

  it('rejects duplicate candles, ragged rows and a file without enabled markets', () => {
    const dup = file([
      '2024-01-01T00:00:00Z,BTC/USDT,1,2,0.5,1.5,3',
      '2024-01-01T00:00:00Z,BTC/USDT,1,2,0.5,1.5,3',
    ]);
    expect(() => parseOhlcvCsv(dup, btcOnly)).toThrow(/line 3: duplicate candle for BTC\/USDT/);
    expect(() => parseOhlcvCsv(file(['2024-01-01T00:00:00Z,BTC/USDT,1,2']), btcOnly)).toThrow(
      MarketFeedError,
    );
    expect(() => parseOhlcvCsv(file(['2024-01-01T00:00:00Z,ETH/USDT,1,2,0.5,1.5,3']), btcOnly)).toThrow(
      /no candles for any enabled symbol/,
    );
  });
});

describe('CsvReplayFeed', () => {
  it('replays one timestamp per step after a warm-up window, then reports nothing', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 5; i++) {
      const t = new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString();
      lines.push(`${t},BTC/USDT,${100 + i},${101 + i},${99 + i},${100 + i}.5,1`);
      if (i >= 2) lines.push(`${t},ETH/USDT,${3000 + i},${3001 + i},${2999 + i},${3000 + i},1`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'csv-feed-'));
    const path = join(dir, 'replay.csv');
    writeFileSync(path, file(lines));
    const candles = parseOhlcvCsv(file(lines), MARKET_CATALOG);
    const feed = new CsvReplayFeed(candles, 3);

    const first = await feed.next();
    expect(first.get('BTC/USDT')!.map((c) => toWire(c.close))).toEqual(['100.5', '101.5', '102.5']);
    expect(first.get('ETH/USDT')!.map((c) => toWire(c.close))).toEqual(['3002']);
    const second = await feed.next();
    expect(second.get('BTC/USDT')!.map((c) => toWire(c.close))).toEqual(['101.5', '102.5', '103.5']);
    await feed.next();
    expect((await feed.next()).size).toBe(0);

    const fromFile = CsvReplayFeed.fromFile(path, MARKET_CATALOG);
    expect((await fromFile.next()).get('BTC/USDT')).toHaveLength(5);
  });

  it('puts the replay on the clock: the step replayed is now, and a symbol whose rows stopped is as old as its gap', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 4; i++) {
      const t = new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString();
      lines.push(`${t},BTC/USDT,100,101,99,100,1`);
      // ETH's rows stop after the second minute.
      if (i < 2) lines.push(`${t},ETH/USDT,3000,3001,2999,3000,1`);
    }
    const now = new Date('2026-06-01T12:00:00Z');
    const feed = new CsvReplayFeed(parseOhlcvCsv(file(lines), MARKET_CATALOG), 4, () => now);
    const step = await feed.next();
    expect(step.get('BTC/USDT')!.at(-1)!.closedAt.toISOString()).toBe('2026-06-01T12:00:00.000Z');
    // Two minutes behind the replayed moment: a stale price, as it would be live.
    expect(step.get('ETH/USDT')!.at(-1)!.closedAt.toISOString()).toBe('2026-06-01T11:58:00.000Z');
    // The candles keep the file's own times for the agents.
    expect(step.get('BTC/USDT')!.at(-1)!.time.toISOString()).toBe('2024-01-01T00:03:00.000Z');
  });

  it('fails clearly when the file cannot be read', () => {
    expect(() => CsvReplayFeed.fromFile('/nonexistent/prices.csv', MARKET_CATALOG)).toThrow(
      /cannot read MARKET_FEED_CSV_PATH \/nonexistent\/prices\.csv/,
    );
  });
});
