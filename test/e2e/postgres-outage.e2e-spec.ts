import { Redis } from 'ioredis';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QueueName } from '@desk/contracts';
import {
  clearRedisPrefix,
  createDatabase,
  deskRequest,
  E2E_OWN_ORDERS_ENV,
  dropDatabase,
  issueOperatorKey,
  migrateAll,
  startPlatform,
  startTcpLink,
  testEnv,
  uniquePrefix,
  waitFor,
  type RunningPlatform,
  type TcpLink,
} from '@desk/testing';

/** How long PostgreSQL is gone: the failover the desk must ride out without losing anything it accepted. */
const OUTAGE_MS = 60_000;

/**
 * PostgreSQL goes away for a minute while accepted orders are on their way (docs/runbook.md, "Faults"). The
 * five services reach PostgreSQL through a TCP link the test cuts (every connection reset, new ones refused:
 * for them the server is gone; the shared server other tests use keeps running). The orders are caught in
 * risk's handler when the link is cut: the test holds a lock on risk.intents over its own direct connection.
 * While the database is gone, the gateway answers 503 and no service reports ready; after it comes back,
 * every order answered 202 ends FILLED exactly once, with its audit trail, and no job is left failed.
 */
describe('PostgreSQL down for a minute under accepted orders (five services as processes)', () => {
  const env = testEnv();
  const prefix = uniquePrefix('pgdown');
  let db: { name: string; url: string };
  let link: TcpLink;
  let platform: RunningPlatform;
  let redis: Redis;
  let traderKey: string;

  beforeAll(async () => {
    db = await createDatabase('pgdown');
    migrateAll(db.url);
    const direct = new URL(db.url);
    link = await startTcpLink(Number(direct.port || 5432));
    const viaLink = new URL(db.url);
    viaLink.port = String(link.port);
    redis = new Redis(env.redisUrl);
    platform = await startPlatform({
      databaseUrl: viaLink.toString(),
      redisUrl: env.redisUrl,
      redisPrefix: prefix,
      env: {
        ...E2E_OWN_ORDERS_ENV,
        // The agents cannot record their runs while the database is gone, so the last price may be older than
        // the default 30 s when risk decides the held orders: that would reject them (NO_MARKET_PRICE, a true
        // end state, tested elsewhere). Prices are not under test here.
        RISK_MAX_PRICE_AGE_MS: '300000',
        EXECUTION_MAX_PRICE_AGE_MS: '300000',
        // The sweeps look for what never arrived; here nothing may need them, but they run as in production.
        REDRIVE_AFTER_MS: '20000',
        REDRIVE_INTERVAL_MS: '5000',
      },
    });
    traderKey = (await issueOperatorKey(platform.baseUrl, platform.adminKey, 'Pat Trader', ['trader'])).key;
  });

  afterAll(async () => {
    if (process.env.E2E_SHOW_OUTPUT === 'true' && platform) {
      for (const [app, lines] of Object.entries(platform.output))
        console.log(`== ${app}\n${lines.join('').slice(-6000)}`);
    }
    await platform?.stop();
    await link?.close();
    redis?.disconnect();
    if (db) await dropDatabase(db.name);
    await clearRedisPrefix(prefix);
  });

  const api = (method: string, path: string, body?: unknown) =>
    deskRequest(platform.baseUrl, traderKey, method, path, body);

  const ready = async (port: number) =>
    (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.status;

  it('every order answered 202 before the outage is filled exactly once after it', async () => {
    await waitFor(async () => ((await redis.hget(`${prefix}:market:last`, 'ETH/USDT')) ? true : undefined), {
      what: 'a market price',
    });
    const blocker = new Client({ connectionString: db.url });
    blocker.on('error', () => undefined);
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query(`LOCK TABLE risk.intents IN SHARE MODE`);
    const ids: string[] = [];
    for (const quantity of ['0.1', '0.2', '0.3']) {
      const r = await api('POST', '/v1/orders', {
        symbol: 'ETH/USDT',
        side: 'buy',
        type: 'market',
        quantity,
      });
      expect(r.status).toBe(202);
      ids.push(r.body.id as string);
    }
    await waitFor(
      async () => {
        const waiting = await blocker.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        );
        return waiting.rows[0].n >= 1 ? true : undefined;
      },
      { what: "risk's handler inside its transaction, held by the lock" },
    );

    await link.cut();
    await blocker.query('ROLLBACK');
    await blocker.end();
    const cutAt = Date.now();

    // While PostgreSQL is gone: a clear 503 for what needs it, and no service says it is ready.
    const refused = await api('POST', '/v1/orders', {
      symbol: 'ETH/USDT',
      side: 'buy',
      type: 'market',
      quantity: '0.5',
    });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('DEPENDENCY_UNAVAILABLE');
    for (const port of Object.values(platform.ports)) {
      expect(await waitFor(async () => ((await ready(port)) === 503 ? 503 : undefined))).toBe(503);
    }
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - cutAt))));
    await link.restore();

    // Every service is still up and ready again by itself.
    for (const [app, port] of Object.entries(platform.ports)) {
      expect({
        app,
        ready: await waitFor(async () => ((await ready(port)) === 200 ? 200 : undefined), {
          timeoutMs: 30_000,
          what: `${app} ready again`,
        }),
      }).toEqual({ app, ready: 200 });
    }
    const filled = await waitFor(
      async () => {
        const orders = await Promise.all(ids.map((id) => api('GET', `/v1/orders/${id}`)));
        if (orders.every((o) => o.body?.status === 'FILLED')) return orders.map((o) => o.body);
        throw new Error(
          `orders: ${orders.map((o) => `${o.status} ${o.body?.status} ${o.body?.reasonCode} ${JSON.stringify(o.body?.history)}`).join(', ')}`,
        );
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'every accepted order FILLED after the outage' },
    );
    for (const order of filled) {
      expect(order.fills).toHaveLength(1);
      expect(order.history.map((h: { status: string }) => h.status)).toEqual([
        'RECEIVED',
        'ACCEPTED',
        'SUBMITTED',
        'PLACING',
        'FILLED',
      ]);
      const audit = await waitFor(
        async () => {
          const r = await api('GET', `/v1/audit?subjectType=order&subjectId=${order.id}`);
          const actions: string[] = r.body.items.map((e: { action: string }) => e.action);
          return actions.includes('order.filled') ? actions : undefined;
        },
        { what: `the audit trail of ${order.id}` },
      );
      for (const action of [
        'order.received',
        'order.accepted',
        'order.submitted',
        'order.placing',
        'order.filled',
      ]) {
        expect({ action, times: audit.filter((a) => a === action).length }).toEqual({ action, times: 1 });
      }
    }
    const positions = await api('GET', '/v1/positions');
    const eth = positions.body.items.find((p: { symbol: string }) => p.symbol === 'ETH/USDT');
    expect(eth.quantity).toBe('0.6');
    for (const q of [QueueName.Intents, QueueName.Orders, QueueName.Executions, QueueName.OrderUpdates]) {
      expect({ queue: q, failed: await redis.zcard(`${prefix}:${q}:failed`) }).toEqual({
        queue: q,
        failed: 0,
      });
    }
  });
});
