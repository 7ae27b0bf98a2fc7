import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  JobName,
  MARKET_CATALOG,
  OrderSide,
  OrderType,
  PAPER_VENUE,
  QueueName,
  SCHEMA_VERSION,
  TimeInForce,
  type ApprovalRequested,
} from '@desk/contracts';
import { MarketCatalogService, Outbox, SERVICE_DATABASE_ROLES, roleDatabaseUrl } from '@desk/platform';
import { waitFor } from '@desk/testing';
import { holdForApproval, startGateway, type Gateway } from './gateway-harness';

/**
 * POST /v1/orders validates against the venue's catalog as execution publishes it (execution.market_catalog),
 * not the static paper catalog: what execution's rows say (changed here as the database owner, as execution
 * does when it loads its venue's markets) is what the gateway enforces once it has read them again.
 */
describe('gateway order validation against the venue market catalog (real PostgreSQL and Redis)', () => {
  let gw: Gateway;
  let owner: Client;
  let catalog: MarketCatalogService;
  let trader: { key: string; operatorId: string };

  beforeAll(async () => {
    // The timer is out of the way: each test reads the catalog again when it says so (one test starts its own).
    gw = await startGateway({ MARKET_CATALOG_REFRESH_MS: '3600000' });
    owner = new Client({ connectionString: gw.config.DATABASE_URL });
    await owner.connect();
    catalog = gw.app.get(MarketCatalogService);
    trader = await gw.issueKey(['trader']);
  });

  afterEach(async () => {
    await resetCatalog();
  });

  afterAll(async () => {
    await gw?.close();
    await owner?.end();
  });

  /** The paper catalog back, as the migration seeds it, and read again. */
  async function resetCatalog(): Promise<void> {
    await owner.query(`DELETE FROM execution.markets`);
    for (const m of MARKET_CATALOG) {
      await owner.query(
        `INSERT INTO execution.markets (venue, symbol, base, quote, tick_size, step_size, min_quantity,
           min_notional, price_precision, quantity_precision)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          PAPER_VENUE,
          m.symbol,
          m.base,
          m.quote,
          m.tickSize,
          m.stepSize,
          m.minQuantity,
          m.minNotional,
          m.pricePrecision,
          m.quantityPrecision,
        ],
      );
    }
    expect(await catalog.refresh()).toBe(true);
  }

  /** What execution writes when its venue's filters for a market change. */
  async function setMarket(
    symbol: string,
    m: { tick: string; step: string; minQuantity: string; minNotional: string | null },
  ): Promise<void> {
    await owner.query(
      `UPDATE execution.markets SET tick_size = $2, step_size = $3, min_quantity = $4, min_notional = $5,
              loaded_at = now()
        WHERE symbol = $1`,
      [symbol, m.tick, m.step, m.minQuantity, m.minNotional],
    );
  }

  const post = (body: object, key = trader.key) =>
    gw.app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'idempotency-key': randomUUID(),
      },
      payload: JSON.stringify(body),
    });

  const get = (url: string) =>
    gw.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${trader.key}` } });

  const submissions = async () =>
    Number((await owner.query<{ n: string }>(`SELECT count(*) AS n FROM gateway.submissions`)).rows[0]!.n);

  const eth = (o: object) => ({ symbol: 'ETH/USDT', side: 'buy', type: 'limit', ...o });

  it.each([
    [
      'a quantity off the lot size',
      eth({ quantity: '0.0015', price: '3200' }),
      'quantity',
      'LOT_SIZE_MISMATCH',
    ],
    [
      'a limit price off the tick',
      eth({ quantity: '0.01', price: '3200.25' }),
      'price',
      'TICK_SIZE_MISMATCH',
    ],
    [
      'a quantity below the minimum',
      eth({ quantity: '0.001', price: '3200' }),
      'quantity',
      'QUANTITY_BELOW_MINIMUM',
    ],
    [
      'a notional below the minimum',
      eth({ quantity: '0.002', price: '3000' }),
      'quantity',
      'NOTIONAL_BELOW_MINIMUM',
    ],
  ])(
    'answers 400 naming the field and reason code for %s once the catalog says so, and stores nothing',
    async (_, body, field, code) => {
      // The paper catalog (tick 0.01, lot 0.0001, no minimum notional) takes it.
      const before = await post(body);
      expect(before.statusCode).toBe(202);
      await setMarket('ETH/USDT', { tick: '0.5', step: '0.001', minQuantity: '0.002', minNotional: '10' });
      await catalog.refresh();
      const stored = await submissions();
      const res = await post(body);
      expect(res.statusCode).toBe(400);
      const error = res.json().error;
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.details).toEqual([{ field, reason: expect.stringContaining(`(${code})`) }]);
      expect(await submissions()).toBe(stored);
    },
  );

  it('enforces a changed catalog only once it has read it again, and a symbol only while the catalog has it', async () => {
    const order = { symbol: 'BTC/USDT', side: 'sell', type: 'limit', quantity: '0.01', price: '64000.05' };
    expect((await post(order)).statusCode).toBe(202);
    await setMarket('BTC/USDT', {
      tick: '0.1',
      step: '0.000001',
      minQuantity: '0.000001',
      minNotional: null,
    });
    // Served from memory until the next read.
    expect((await post(order)).statusCode).toBe(202);
    await catalog.refresh();
    const refused = await post(order);
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.details).toEqual([
      { field: 'price', reason: "must be a multiple of BTC/USDT's tick size 0.1 (TICK_SIZE_MISMATCH)" },
    ]);
    expect((await post({ ...order, price: '64000.1' })).statusCode).toBe(202);

    // The venue stops listing ETH/USDT (still in TRADING_SYMBOLS): unknown; listed again: traded again.
    const ethOrder = eth({ quantity: '0.01', price: '3200' });
    await owner.query(`DELETE FROM execution.markets WHERE symbol = 'ETH/USDT'`);
    await catalog.refresh();
    const unknown = await post(ethOrder);
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.details).toEqual([
      { field: 'symbol', reason: expect.stringMatching(/^unknown symbol.*\(UNKNOWN_SYMBOL\)$/) },
    ]);
    await resetCatalog();
    expect((await post(ethOrder)).statusCode).toBe(202);
  });

  it('reads the catalog again every MARKET_CATALOG_REFRESH_MS by itself', async () => {
    const other = await startGateway(
      { DATABASE_URL: gw.config.DATABASE_URL, MARKET_CATALOG_REFRESH_MS: '200' },
      { prefix: gw.prefix, adminKey: gw.adminKey },
    );
    try {
      const order = { symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: '0.0015' };
      expect((await post(order)).statusCode).toBe(202);
      await setMarket('BTC/USDT', { tick: '0.01', step: '0.001', minQuantity: '0.001', minNotional: null });
      const res = await waitFor(
        async () => {
          const r = await other.app.inject({
            method: 'POST',
            url: '/v1/orders',
            headers: {
              authorization: `Bearer ${trader.key}`,
              'content-type': 'application/json',
              'idempotency-key': randomUUID(),
            },
            payload: JSON.stringify(order),
          });
          return r.statusCode === 400 ? r : undefined;
        },
        { what: 'the refreshed catalog refusing the order' },
      );
      expect(res.json().error.details[0].reason).toMatch(/LOT_SIZE_MISMATCH/);
    } finally {
      await other.close();
    }
  });

  it('answers 503 DEPENDENCY_UNAVAILABLE, never 500 nor a guess from the static catalog, while the catalog is empty', async () => {
    await owner.query(`DELETE FROM execution.markets`);
    expect(await catalog.refresh()).toBe(true);
    const stored = await submissions();
    const res = await post({ symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: '0.01' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json().error).toMatchObject({
      code: 'DEPENDENCY_UNAVAILABLE',
      message: expect.stringMatching(/market catalog/),
    });
    expect(await submissions()).toBe(stored);
    await resetCatalog();
    expect(
      (await post({ symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: '0.01' })).statusCode,
    ).toBe(202);
  });

  it('keeps validating against the last catalog it read while the view cannot be read', async () => {
    await setMarket('BTC/USDT', { tick: '0.1', step: '0.001', minQuantity: '0.001', minNotional: null });
    await catalog.refresh();
    await owner.query(`ALTER VIEW execution.market_catalog RENAME TO market_catalog_gone`);
    try {
      expect(await catalog.refresh()).toBe(false);
      const off = await post({ symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: '0.0015' });
      expect(off.statusCode).toBe(400);
      expect(off.json().error.details[0].reason).toMatch(/LOT_SIZE_MISMATCH/);
      expect(
        (await post({ symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: '0.002' })).statusCode,
      ).toBe(202);
    } finally {
      await owner.query(`ALTER VIEW execution.market_catalog_gone RENAME TO market_catalog`);
    }
  });

  it('records an IOC limit order’s time in force with the submission, on the intent, in the view risk reads and in GET', async () => {
    const order = {
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'limit',
      quantity: '0.01',
      price: '64000',
      timeInForce: 'IOC',
    };
    const res = await post(order);
    expect(res.statusCode).toBe(202);
    const id = res.json().id as string;
    await gw.app.get(Outbox).flush();
    const job = await waitFor(async () => gw.queue(QueueName.Intents).getJob(id), { what: `intent ${id}` });
    expect(job.data.order).toEqual(order);

    // What risk reads to verify the intent, as risk's own role.
    const risk = new Client({
      connectionString: roleDatabaseUrl(gw.config.DATABASE_URL, SERVICE_DATABASE_ROLES.risk),
    });
    await risk.connect();
    try {
      const { rows } = await risk.query(
        `SELECT time_in_force, post_only FROM gateway.intent_sources WHERE intent_id = $1`,
        [id],
      );
      expect(rows).toEqual([{ time_in_force: 'IOC', post_only: false }]);
    } finally {
      await risk.end();
    }

    const view = (await get(`/v1/orders/${id}`)).json();
    expect(view).toMatchObject({ id, timeInForce: 'IOC', postOnly: false });
    const postOnly = await post({ ...order, timeInForce: undefined, postOnly: true });
    expect(postOnly.statusCode).toBe(202);
    const market = await post({ symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: '0.01' });
    const list = (await get('/v1/orders?symbol=BTC/USDT&limit=200')).json().items as {
      id: string;
      timeInForce: string | null;
      postOnly: boolean;
    }[];
    const shown = (orderId: string) => list.find((o) => o.id === orderId);
    expect(shown(id)).toMatchObject({ timeInForce: 'IOC', postOnly: false });
    // None given: a limit order works as GTC; a market order has no time in force.
    expect(shown(postOnly.json().id as string)).toMatchObject({ timeInForce: 'GTC', postOnly: true });
    expect(shown(market.json().id as string)).toMatchObject({ timeInForce: null, postOnly: false });

    // Post-only takes liquidity never: with IOC it is refused, naming the field.
    const both = await post({ ...order, postOnly: true });
    expect(both.statusCode).toBe(400);
    expect(both.json().error.details).toEqual([{ field: 'postOnly', reason: expect.stringMatching(/GTC/) }]);
  });

  it('opens an approval request for an IOC order risk holds with its time in force (not refused as forged)', async () => {
    const intentId = randomUUID();
    const job: ApprovalRequested = {
      schemaVersion: SCHEMA_VERSION,
      intentId,
      actor: { type: 'operator', id: trader.operatorId, keyId: 'kid_0000000000000000' },
      order: {
        symbol: 'BTC/USDT',
        side: OrderSide.Buy,
        type: OrderType.Limit,
        quantity: '1',
        price: '60000',
        timeInForce: TimeInForce.Ioc,
      },
      reasonCode: 'APPROVAL_REQUIRED',
      context: { notional: '60000', threshold: '25000', referencePrice: '60000' },
      requestedAt: new Date().toISOString(),
      correlationId: randomUUID(),
    };
    await holdForApproval(gw, job);
    await gw.queue(QueueName.Approvals).add(JobName.ApprovalRequested, job, { jobId: intentId });
    await waitFor(async () => {
      const list = await gw.app.inject({
        url: '/v1/approvals?status=pending&limit=200',
        headers: { authorization: `Bearer ${gw.adminKey}` },
      });
      return (list.json().items as { subjectId: string }[]).find((a) => a.subjectId === intentId);
    });
  });
});
