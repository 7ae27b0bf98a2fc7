import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { money } from '@desk/contracts';
import {
  clearRedisPrefix,
  createDatabase,
  deskRequest,
  dropDatabase,
  E2E_OWN_ORDERS_ENV,
  issueOperatorKey,
  migrateAll,
  startFakeBinance,
  startPlatform,
  testEnv,
  uniquePrefix,
  waitFor,
  type FakeBinance,
  type RunningPlatform,
} from '@desk/testing';

const API_KEY = 'e2e-stand-in-key-0001';
const API_SECRET = 'e2e-stand-in-secret-0001';

/** The client order id execution sends for an order (the intent id without its dashes). */
const clientIdOf = (orderId: string) => orderId.replace(/-/g, '');

/**
 * The five services as processes, execution on EXECUTION_MODE=testnet trading, through the real ccxt
 * library, a local stand-in for Binance spot (libs/testing/src/fake-binance.ts; not Binance): what an
 * operator sees through the gateway, and execution killed between the venue's acceptance of an order and
 * the commit of that acceptance.
 */
describe('trading a Binance spot stand-in (a local venue, not Binance) through the real ccxt library (five services as processes)', () => {
  const env = testEnv();
  const prefix = uniquePrefix('venue');
  let db: { name: string; url: string };
  let venue: FakeBinance;
  let platform: RunningPlatform;
  let traderKey: string;
  let viewerKey: string;

  beforeAll(async () => {
    venue = await startFakeBinance({
      apiKey: API_KEY,
      secret: API_SECRET,
      balances: { USDT: '1000000', BTC: '10', ETH: '100' },
    });
    venue.setPrice('BTC/USDT', '65000');
    venue.setPrice('ETH/USDT', '3200');
    db = await createDatabase('venue');
    migrateAll(db.url);
    platform = await startPlatform({
      databaseUrl: db.url,
      redisUrl: env.redisUrl,
      redisPrefix: prefix,
      env: {
        ...E2E_OWN_ORDERS_ENV,
        EXECUTION_MODE: 'testnet',
        EXECUTION_VENUE: 'binance',
        EXCHANGE_VENUES: 'binance',
        EXCHANGE_BINANCE_API_KEY: API_KEY,
        EXCHANGE_BINANCE_API_SECRET: API_SECRET,
        EXECUTION_VENUE_API_URL: venue.origin,
        EXECUTION_VENUE_TIMEOUT_MS: '2000',
        EXECUTION_VENUE_RECV_WINDOW_MS: '1000',
        EXECUTION_LEASE_MS: '6000',
        EXECUTION_RECONCILE_MS: '2000',
      },
    });
    traderKey = (await issueOperatorKey(platform.baseUrl, platform.adminKey, 'Tess Trader', ['trader'])).key;
    viewerKey = (await issueOperatorKey(platform.baseUrl, platform.adminKey, 'Vic Viewer', ['viewer'])).key;
  });

  afterAll(async () => {
    await platform?.stop();
    await venue?.stop();
    if (db) await dropDatabase(db.name);
    await clearRedisPrefix(prefix);
  });

  const api = (method: string, path: string, body?: unknown, key = traderKey) =>
    deskRequest(platform.baseUrl, key, method, path, body);

  const orderIs = async (id: string, status: string) => {
    let last: unknown;
    return waitFor(
      async () => {
        const r = await api('GET', `/v1/orders/${id}`);
        last = r.body;
        return r.body?.status === status ? r.body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: `order ${id} ${status}` },
    ).catch(async (error: unknown) => {
      // What the order went through, and what execution said, for the failure message.
      const runs = await api('GET', '/v1/reconciliations?limit=3');
      console.error(
        JSON.stringify(last),
        JSON.stringify(runs.body),
        platform.output.execution.slice(-5).join('\n'),
      );
      throw error;
    });
  };

  it('execution killed after the venue accepted an order and before it committed: one order at the venue, found again by its client order id', async () => {
    // The venue takes the next order (and fills it at once: a venue accepts the same client order id again
    // once the first order is done, so only the desk's lookup keeps it from being placed twice) and holds
    // its answer: execution waits inside the venue call.
    venue.acceptButTimeOutNext(1500);
    const placed = await api('POST', '/v1/orders', {
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'limit',
      quantity: '0.01',
      price: '65500',
    });
    expect(placed.status).toBe(202);
    const id = placed.body.id as string;
    await waitFor(async () => (venue.placements(clientIdOf(id)) === 1 ? true : undefined), {
      intervalMs: 5,
      timeoutMs: 30_000,
      what: 'the venue to accept the order',
    });
    await platform.kill('execution', 'SIGKILL');
    // Committed as PLACING before the call; the venue's answer never reached a commit.
    const before = await api('GET', `/v1/orders/${id}`);
    expect(before.body.status).toBe('PLACING');

    await platform.restart('execution');
    const filled = await orderIs(id, 'FILLED');
    expect(venue.placements(clientIdOf(id))).toBe(1);
    expect(venue.orders().filter((o) => o.clientOrderId === clientIdOf(id))).toHaveLength(1);
    expect(filled.history.map((h: { status: string }) => h.status)).toEqual([
      'RECEIVED',
      'ACCEPTED',
      'SUBMITTED',
      'PLACING',
      'FILLED',
    ]);
    expect(filled.fills).toHaveLength(1);
  });

  it('fills in parts at the venue: the order, its fills and the position follow every partial fill', async () => {
    const placed = await api('POST', '/v1/orders', {
      symbol: 'ETH/USDT',
      side: 'buy',
      type: 'limit',
      quantity: '2',
      price: '3100',
    });
    const id = placed.body.id as string;
    await orderIs(id, 'OPEN');
    venue.fillOrder(clientIdOf(id), '0.5', '3100');
    const partial = await orderIs(id, 'PARTIALLY_FILLED');
    expect(partial.fills).toHaveLength(1);
    venue.fillOrder(clientIdOf(id), '1.5', '3099');
    const filled = await orderIs(id, 'FILLED');
    expect(filled.fills.map((f: { quantity: string }) => f.quantity).sort()).toEqual(['0.5', '1.5']);
    const positions = await waitFor(async () => {
      const r = await api('GET', '/v1/positions');
      const eth = r.body.items.find((p: { symbol: string }) => p.symbol === 'ETH/USDT');
      return eth && money(eth.quantity).eq(2) ? eth : undefined;
    });
    expect(money(positions.quantity).toFixed()).toBe('2');
  });

  it('an operator cancels a resting order (DELETE /v1/orders/:id): the venue cancels it, the history names who, a viewer may not', async () => {
    const placed = await api('POST', '/v1/orders', {
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'limit',
      quantity: '0.02',
      price: '59000',
    });
    const id = placed.body.id as string;
    await orderIs(id, 'OPEN');
    expect((await api('DELETE', `/v1/orders/${id}`, undefined, viewerKey)).status).toBe(403);
    const first = await api('DELETE', `/v1/orders/${id}`);
    expect(first.status).toBe(202);
    const cancelled = await orderIs(id, 'CANCELLED');
    expect(cancelled.reasonCode).toBe('CANCELLED_BY_OPERATOR');
    expect(cancelled.history.at(-1).detail).toMatch(/^CANCELLED_BY_OPERATOR: cancelled by /);
    expect(venue.orders().find((o) => o.clientOrderId === clientIdOf(id))?.status).toBe('CANCELED');
    // Idempotent: cancelling a cancelled order changes nothing.
    const again = await api('DELETE', `/v1/orders/${id}`);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('CANCELLED');
  });

  it('shows the venue balances and the last reconciliation, which finds an order the desk did not place', async () => {
    venue.placeExternalOrder({
      symbol: 'ETH/USDT',
      side: 'SELL',
      type: 'LIMIT',
      quantity: '1',
      price: '9000',
    });
    const latest = await waitFor(
      async () => {
        const r = await api('GET', '/v1/reconciliations/latest');
        const kinds = (r.body?.findings ?? []).map((f: { kind: string }) => f.kind);
        return kinds.includes('foreign_open_order') ? r.body : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'a reconciliation finding the foreign order' },
    );
    expect(latest).toMatchObject({ venue: 'binance', outcome: 'differences' });
    const balances = await api('GET', '/v1/balances?venue=binance');
    expect(balances.status).toBe(200);
    const usdt = balances.body.items.find((b: { asset: string }) => b.asset === 'USDT');
    const atVenue = venue.balanceOf('USDT');
    expect(money(usdt.total).toFixed()).toBe(money(atVenue.free).plus(atVenue.locked).toFixed());
  });
});
