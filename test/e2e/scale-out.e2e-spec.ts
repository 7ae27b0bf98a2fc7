import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  clearRedisPrefix,
  createDatabase,
  dropDatabase,
  issueOperatorKey,
  migrateAll,
  OPENED_WIDE,
  startPlatform,
  testEnv,
  uniquePrefix,
  waitFor,
  type RunningPlatform,
} from '@desk/testing';

const FINAL = ['FILLED', 'REJECTED', 'CANCELLED', 'EXPIRED', 'VENUE_REJECTED'];
/** The order in which an order's statuses may follow each other on the path a market order takes. */
const PATH = ['RECEIVED', 'ACCEPTED', 'SUBMITTED', 'PLACING', 'FILLED'];

/**
 * Issue 17, scale out: two instances of every service side by side on one database and one Redis (as two
 * machines would run them), driven through both gateways, with one instance of each crashing mid-stream.
 * What must still hold: every accepted order fills exactly once, an idempotency key means one order whichever
 * gateway it reaches, a limit counts every instance's orders, each order's history is in order, and the
 * audit chain verifies.
 */
describe('two instances of every service (processes, paper mode)', () => {
  const env = testEnv();
  const prefix = uniquePrefix('scale');
  let db: { name: string; url: string };
  let platform: RunningPlatform;
  let pg: Client;
  let traderKey: string;

  beforeAll(async () => {
    db = await createDatabase('scale');
    migrateAll(db.url);
    platform = await startPlatform({
      databaseUrl: db.url,
      redisUrl: env.redisUrl,
      redisPrefix: prefix,
      instances: 2,
      env: {
        ...OPENED_WIDE,
        EXECUTION_TICK_MS: '200',
        // Above what the crash test can leave pending (orders leased by a dead instance count until they end).
        RISK_MAX_OPEN_ORDERS: '50',
      },
    });
    traderKey = (await issueOperatorKey(platform.baseUrl, platform.adminKey, 'Sam Trader', ['trader'])).key;
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });

  afterAll(async () => {
    await pg?.end();
    await platform?.stop();
    if (db) await dropDatabase(db.name);
    await clearRedisPrefix(prefix);
  });

  const submit = async (gateway: number, order: object, idempotencyKey = randomUUID()) => {
    const res = await fetch(`${platform.gatewayUrls[gateway]}/v1/orders`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${traderKey}`,
        'content-type': 'application/json',
        'idempotency-key': idempotencyKey,
      },
      body: JSON.stringify(order),
    });
    return { status: res.status, body: (await res.json()) as { id: string; status: string } };
  };
  const market = (side: 'buy' | 'sell') => ({ symbol: 'BTC/USDT', side, type: 'market', quantity: '0.001' });
  const statusOf = async (id: string) =>
    (await pg.query<{ status: string }>(`SELECT status FROM gateway.orders WHERE id = $1`, [id])).rows[0]
      ?.status;

  /** Risk sessions holding risk's leadership lock: one leader decides, the other stands by. */
  const riskLeaders = async () =>
    (
      await pg.query<{ n: number }>(
        `SELECT count(DISTINCT l.pid)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.granted AND a.datname = current_database() AND a.usename = 'desk_risk'`,
      )
    ).rows[0].n;

  it('starts two of each: both gateways answer, one risk instance leads', async () => {
    expect(platform.gatewayUrls).toHaveLength(2);
    for (const url of platform.gatewayUrls) expect((await fetch(`${url}/health/ready`)).status).toBe(200);
    expect(await riskLeaders()).toBe(1);
    // A market price reaches the desk: the first market order fills.
    await waitFor(
      async () => {
        const { body } = await submit(0, market('buy'));
        await new Promise((r) => setTimeout(r, 1000));
        return (await statusOf(body.id)) === 'FILLED' ? true : undefined;
      },
      { timeoutMs: 60_000, what: 'a first order to fill (a market price)' },
    );
  });

  it('one idempotency key sent to both gateways at once is one order', async () => {
    const key = randomUUID();
    const [a, b] = await Promise.all([submit(0, market('buy'), key), submit(1, market('buy'), key)]);
    // The IETF draft's semantics across instances: the second is either the stored answer (202, same
    // order) or, while the first is still in flight, 409; a retry then gets the stored answer.
    const accepted = [a, b].filter((r) => r.status === 202);
    expect(accepted.length).toBeGreaterThan(0);
    expect([a, b].every((r) => r.status === 202 || r.status === 409)).toBe(true);
    const id = accepted[0].body.id;
    for (const r of accepted) expect(r.body.id).toBe(id);
    for (const gateway of [0, 1]) {
      const replay = await submit(gateway, market('buy'), key);
      expect(replay).toMatchObject({ status: 202, body: { id } });
    }
    await waitFor(async () => ((await statusOf(id)) === 'FILLED' ? true : undefined), {
      what: 'the order to fill',
    });
    const orders = await pg.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM gateway.submissions WHERE idempotency_key = $1`,
      [key],
    );
    expect(orders.rows[0].n).toBe(1);
    const fills = await pg.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM execution.fills WHERE order_id = $1`,
      [id],
    );
    expect(fills.rows[0].n).toBe(1);
  });

  it('the open-order limit counts orders from both gateways, decided concurrently', async () => {
    // Resting buys far below the market: each stays OPEN, so each counts toward RISK_MAX_OPEN_ORDERS (50).
    const resting = { symbol: 'BTC/USDT', side: 'buy', type: 'limit', quantity: '0.02', price: '1000' };
    const answers = await Promise.all(Array.from({ length: 54 }, (_, i) => submit(i % 2, resting)));
    expect(answers.every((a) => a.status === 202)).toBe(true);
    const ids = answers.map((a) => a.body.id);
    const final = await waitFor(
      async () => {
        const rows = await pg.query<{ status: string; reason_code: string | null }>(
          `SELECT status, reason_code FROM gateway.orders WHERE id = ANY($1::uuid[])`,
          [ids],
        );
        return rows.rows.length === 54 && rows.rows.every((r) => ['OPEN', 'REJECTED'].includes(r.status))
          ? rows.rows
          : undefined;
      },
      { timeoutMs: 60_000, what: 'all 54 to be decided and the accepted ones to rest' },
    );
    expect(final.filter((r) => r.status === 'OPEN')).toHaveLength(50);
    expect(final.filter((r) => r.status === 'REJECTED').map((r) => r.reason_code)).toEqual(
      Array(4).fill('MAX_OPEN_ORDERS'),
    );
    // Cancel them (through the other gateway) so the next test starts from no open orders.
    for (const id of ids) {
      await fetch(`${platform.gatewayUrls[1]}/v1/orders/${id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${traderKey}`, 'idempotency-key': randomUUID() },
      });
    }
    await waitFor(
      async () => {
        // Risk too has heard they ended (they no longer count as open there).
        const rows = await pg.query(
          `SELECT count(*)::int AS n FROM risk.intents WHERE id = ANY($1::uuid[]) AND status = 'ACCEPTED'
              AND execution_status IS DISTINCT FROM 'CANCELLED'`,
          [ids],
        );
        return rows.rows[0].n === 0 ? true : undefined;
      },
      { timeoutMs: 60_000, what: 'the resting orders to be cancelled' },
    );
  });

  it('orders through both gateways while one instance of each service crashes: each fills once, in order, audited once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      if (i === 12) {
        // A crash of one instance of every service at once (SIGKILL: no shutdown hooks), mid-stream.
        await Promise.all(
          (['gateway', 'risk', 'execution', 'audit'] as const).map((app) => platform.kill(app, 'SIGKILL', 1)),
        );
      }
      // Before the crash both gateways take orders; after it, the survivor.
      const { status, body } = await submit(i < 12 ? i % 2 : 0, market(i % 2 ? 'buy' : 'sell'));
      expect(status).toBe(202);
      ids.push(body.id);
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitFor(
      async () => {
        const rows = await pg.query(
          `SELECT count(*)::int AS n FROM gateway.orders WHERE id = ANY($1::uuid[]) AND status = ANY($2)`,
          [ids, FINAL],
        );
        return rows.rows[0].n === ids.length ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: 'every order to end' },
    );
    const statuses = await pg.query<{ status: string }>(
      `SELECT status FROM gateway.orders WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    expect(statuses.rows.map((r) => r.status)).toEqual(Array(ids.length).fill('FILLED'));
    // Exactly one fill per order at execution, and one at the gateway's projection.
    const fills = await pg.query<{ order_id: string; n: number }>(
      `SELECT order_id, count(*)::int AS n FROM execution.fills WHERE order_id = ANY($1::uuid[]) GROUP BY order_id`,
      [ids],
    );
    expect(fills.rows).toHaveLength(ids.length);
    expect(fills.rows.every((r) => r.n === 1)).toBe(true);
    const projected = await pg.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM gateway.order_fills WHERE order_id = ANY($1::uuid[])`,
      [ids],
    );
    expect(projected.rows[0].n).toBe(ids.length);
    // Each order's history, as the gateway shows it, follows the path in order, each status once.
    const history = await pg.query<{ order_id: string; statuses: string[] }>(
      `SELECT order_id,
              array_agg(status ORDER BY CASE owner WHEN 'gateway' THEN 0 WHEN 'risk' THEN 1 ELSE 2 END, seq)
                AS statuses
         FROM gateway.order_events
        WHERE order_id = ANY($1::uuid[]) GROUP BY order_id`,
      [ids],
    );
    for (const row of history.rows) {
      const positions = row.statuses.map((s) => PATH.indexOf(s));
      expect(positions.every((p) => p >= 0)).toBe(true);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
      expect(new Set(row.statuses).size).toBe(row.statuses.length);
      expect(row.statuses[row.statuses.length - 1]).toBe('FILLED');
    }
    // The audit log holds each order's fill once, and the chain verifies.
    const filledEvents = await waitFor(
      async () => {
        const r = await pg.query<{ subject_id: string; n: number }>(
          `SELECT subject_id, count(*)::int AS n FROM audit.audit_events
            WHERE action = 'order.filled' AND subject_id = ANY($1::text[]) GROUP BY subject_id`,
          [ids],
        );
        return r.rows.length === ids.length ? r.rows : undefined;
      },
      { timeoutMs: 60_000, what: 'every fill in the audit log' },
    );
    expect(filledEvents.every((r) => r.n === 1)).toBe(true);
    const run = await fetch(`${platform.baseUrl}/v1/audit/verifications`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${platform.adminKey}`,
        'content-type': 'application/json',
        'idempotency-key': randomUUID(),
      },
      body: '{}',
    });
    expect(run.status).toBe(202);
    const { id } = (await run.json()) as { id: string };
    const verdict = await waitFor(
      async () => {
        const r = await fetch(`${platform.baseUrl}/v1/audit/verifications/${id}`, {
          headers: { authorization: `Bearer ${platform.adminKey}` },
        });
        const body = (await r.json()) as { status: string };
        return body.status !== 'running' ? body : undefined;
      },
      { timeoutMs: 60_000, what: 'the audit verification to end' },
    );
    expect(verdict.status).toBe('ok');
    // Whichever risk instance died, the survivor leads.
    expect(await riskLeaders()).toBe(1);
  });
});
