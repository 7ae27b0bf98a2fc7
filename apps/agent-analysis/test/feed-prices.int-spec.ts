import { Test, type TestingModule } from '@nestjs/testing';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SCHEMA_VERSION, money } from '@desk/contracts';
import { MarketPriceStore } from '@desk/platform';
import { createMigratedDatabase, dropDatabase, testEnv, uniquePrefix } from '@desk/testing';
import { AppModule } from '../src/app.module';
import { loadAgentAnalysisConfig } from '../src/config';
import { AgentRunService } from '../src/modules/agents/agent-run.service';
import type { Candle, CandlesBySymbol } from '../src/modules/market-feed/candle';
import { MARKET_FEED, type MarketFeed } from '../src/modules/market-feed/market-feed';

/** A feed that says whatever the test wants it to: the market data an attacker or a broken venue sends. */
class ScriptedFeed implements MarketFeed {
  readonly kind = 'scripted';
  candles: CandlesBySymbol = new Map();
  next(): Promise<CandlesBySymbol> {
    return Promise.resolve(this.candles);
  }
}

function candle(close: string, closedAt: Date): Candle {
  const price = money(close);
  return {
    time: new Date(closedAt.getTime() - 60_000),
    closedAt,
    open: price,
    high: price,
    low: price,
    close: price,
    volume: money('1'),
  };
}

describe('the market feed refuses untrustworthy prices (real Redis and PostgreSQL, own database)', () => {
  const feed = new ScriptedFeed();
  let db: { name: string; url: string };
  let pg: Client;
  let moduleRef: TestingModule;
  let runs: AgentRunService;
  let prices: MarketPriceStore;
  let run = 0;

  beforeAll(async () => {
    db = await createMigratedDatabase('agents-prices');
    const env = testEnv();
    const config = loadAgentAnalysisConfig({
      DATABASE_URL: db.url,
      REDIS_URL: env.redisUrl,
      REDIS_PREFIX: uniquePrefix(env.redisPrefix),
      LOG_LEVEL: 'silent',
      // The tests run the agents themselves.
      AGENT_SCHEDULE_MS: String(24 * 3600 * 1000),
      AGENT_TRADING_ENABLED: 'false',
    });
    moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] })
      .overrideProvider(MARKET_FEED)
      .useValue(feed)
      .compile();
    await moduleRef.init();
    runs = moduleRef.get(AgentRunService);
    prices = moduleRef.get(MarketPriceStore);
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });
  afterAll(async () => {
    await moduleRef.close();
    await pg.end();
    await dropDatabase(db.name);
  });

  /** One agent run on these last candles; what it recorded for the symbol. */
  async function runOn(symbol: string, last: Candle): Promise<{ symbols: number; decisions: number }> {
    feed.candles = new Map([[symbol, [last]]]);
    run += 1;
    const result = await runs.run(
      { schemaVersion: SCHEMA_VERSION, correlationId: 'feed-test' },
      `feed-${run}`,
    );
    const r = await pg.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM agents.decisions WHERE run_id = $1`,
      [result.runId],
    );
    return { symbols: result.symbols, decisions: r.rows[0]?.n ?? 0 };
  }

  async function stored(symbol: string): Promise<{ price: string; at: number } | undefined> {
    const p = await prices.get(symbol);
    return p && { price: p.price.toFixed(), at: p.at.getTime() };
  }

  it('publishes a sane price with the time of its candle', async () => {
    const closedAt = new Date(Date.now() - 2_000);
    expect(await runOn('BTC/USDT', candle('65000', closedAt))).toEqual({ symbols: 1, decisions: 1 });
    expect(await stored('BTC/USDT')).toEqual({ price: '65000', at: closedAt.getTime() });
  });

  it.each([
    ['a price of zero', '0', 0],
    ['a negative price', '-1', 0],
    ['a price dated an hour ahead', '64000', 3_600_000],
  ])('refuses %s: not published, not judged by the agents', async (_what, close, aheadMs) => {
    const before = await stored('BTC/USDT');
    const last = candle(close, new Date(Date.now() + aheadMs));
    expect(await runOn('BTC/USDT', last)).toEqual({ symbols: 0, decisions: 0 });
    expect(await stored('BTC/USDT')).toEqual(before);
  });

  it('publishes an old candle with its own old time, so every reader sees its age', async () => {
    const closedAt = new Date(Date.now() - 600_000);
    await runOn('ETH/USDT', candle('3200', closedAt));
    // Published just now, but dated when the venue traded at it: ten minutes old to risk and execution.
    expect(await stored('ETH/USDT')).toEqual({ price: '3200', at: closedAt.getTime() });
  });

  it('never lets an older candle replace a newer price (a late or replayed feed)', async () => {
    const newer = new Date(Date.now() - 1_000);
    await runOn('ETH/USDT', candle('150', newer));
    await runOn('ETH/USDT', candle('90', new Date(newer.getTime() - 60_000)));
    expect(await stored('ETH/USDT')).toEqual({ price: '150', at: newer.getTime() });
    // Two publishers at once, in either order: the newest candle stays.
    const newest = new Date(Date.now() - 500);
    await Promise.all([
      prices.publish([{ symbol: 'ETH/USDT', price: money('151'), at: newest }]),
      prices.publish([{ symbol: 'ETH/USDT', price: money('149'), at: new Date(newest.getTime() - 100) }]),
    ]);
    expect(await stored('ETH/USDT')).toEqual({ price: '151', at: newest.getTime() });
  });
});
