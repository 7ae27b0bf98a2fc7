import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QueueName } from '@desk/contracts';
import { redisOptions } from '@desk/platform';
import {
  createMigratedDatabase,
  dropDatabase,
  startPrivateRedis,
  startTcpLink,
  waitFor,
  type PrivateRedis,
  type TcpLink,
} from '@desk/testing';
import { startGateway, type Gateway } from './gateway-harness';

/**
 * Faults injected for real: the gateway's own Redis (a private redis-server) is stopped and started again;
 * its PostgreSQL goes away (the gateway reaches the shared server through a TCP link that is cut: open
 * connections reset, new ones refused, exactly what a stopped server looks like from the client; the
 * shared server itself is never stopped). The gateway is never restarted.
 */

const order = { symbol: 'BTC/USDT', side: 'buy', type: 'limit', quantity: '0.01', price: '50000' };

/** Answers within `ms`, or fails: a request during an outage must be answered, never left hanging. */
async function answered<T>(what: string, request: Promise<T>, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([request, hang]).finally(() => clearTimeout(timer));
}

describe('Redis goes down under a running gateway, and comes back', () => {
  let redis: PrivateRedis;
  let gw: Gateway;
  let trader: string;
  let intents: Queue;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    gw = await startGateway({ REDIS_URL: redis.url });
    trader = (await gw.issueKey(['trader'])).key;
    intents = new Queue(QueueName.Intents, { connection: redisOptions(redis.url), prefix: gw.prefix });
  });

  afterAll(async () => {
    await redis?.start().catch(() => undefined);
    await intents?.close();
    await gw?.close();
    await redis?.destroy();
  });

  const as = (key: string) => ({ authorization: `Bearer ${key}` });
  const submit = (idempotencyKey = randomUUID()) =>
    gw.app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: { ...as(trader), 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      payload: JSON.stringify(order),
    });

  it('answers 503 where Redis is needed, keeps PostgreSQL-only paths working, and recovers without a restart', async () => {
    expect((await gw.app.inject({ url: '/health/ready' })).statusCode).toBe(200);
    const before = await submit();
    expect(before.statusCode).toBe(202);
    await waitFor(async () => (await intents.getJob(before.json().id as string)) ?? undefined, {
      what: 'the order accepted before the outage on the intents queue',
    });

    await redis.stop();

    // Readiness says why; liveness stays up (the process is fine, do not restart it).
    const ready = await answered('readiness', gw.app.inject({ url: '/health/ready' }));
    expect(ready.statusCode).toBe(503);
    expect(ready.json().error.redis).toMatchObject({
      status: 'down',
      message: expect.stringMatching(/unreachable/),
    });
    expect(ready.json().info.postgres).toMatchObject({ status: 'up' });
    expect((await gw.app.inject({ url: '/health/live' })).statusCode).toBe(200);

    // Positions need the last prices (Redis): 503 with a code and a Retry-After, not a 500, not a hang.
    const positions = await answered(
      'positions',
      gw.app.inject({ url: '/v1/positions', headers: as(trader) }),
    );
    expect({ status: positions.statusCode, code: positions.json().error.code }).toEqual({
      status: 503,
      code: 'DEPENDENCY_UNAVAILABLE',
    });
    expect(positions.headers['retry-after']).toBe('5');
    expect(JSON.stringify(positions.json())).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|ioredis/);

    // An order needs only PostgreSQL to be accepted: it is recorded with its job in the outbox (the rate
    // limit is counted in this instance's memory meanwhile), and can be read back.
    const during = await answered('an order during the outage', submit());
    expect(during.statusCode).toBe(202);
    const id = during.json().id as string;
    const read = await answered(
      'reading it',
      gw.app.inject({ url: `/v1/orders/${id}`, headers: as(trader) }),
    );
    expect(read.statusCode).toBe(200);

    await redis.start();

    // Back without a restart: ready again, prices readable, and the order accepted during the outage
    // reaches risk's queue (published once, under its own id) along with the one accepted before.
    await waitFor(
      async () => ((await gw.app.inject({ url: '/health/ready' })).statusCode === 200 ? true : undefined),
      {
        what: 'readiness after Redis is back',
      },
    );
    expect((await gw.app.inject({ url: '/v1/positions', headers: as(trader) })).statusCode).toBe(200);
    const job = await waitFor(async () => (await intents.getJob(id)) ?? undefined, {
      what: 'the order accepted during the outage on the intents queue',
    });
    expect(job.data).toMatchObject({ intentId: id, order });
    expect(await intents.getJob(before.json().id as string)).toBeDefined();
    expect((await submit()).statusCode).toBe(202);
  });
});

describe('Redis hangs (connected, answering nothing) while the outbox relay publishes', () => {
  let redis: PrivateRedis;
  let gw: Gateway;
  let trader: string;
  let intents: Queue;
  let pg: Client;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    gw = await startGateway({ REDIS_URL: redis.url });
    trader = (await gw.issueKey(['trader'])).key;
    intents = new Queue(QueueName.Intents, { connection: redisOptions(redis.url), prefix: gw.prefix });
    await intents.waitUntilReady();
    pg = new Client({ connectionString: gw.config.DATABASE_URL });
    await pg.connect();
  });

  afterAll(async () => {
    redis?.resume();
    await pg?.end();
    await intents?.close();
    await gw?.close();
    await redis?.destroy();
  });

  it('holds no transaction or row lock while Redis does not answer, and publishes once it does', async () => {
    redis.pause();
    const accepted = await answered(
      'an order while Redis hangs',
      gw.app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: {
          authorization: `Bearer ${trader}`,
          'content-type': 'application/json',
          'idempotency-key': randomUUID(),
        },
        payload: JSON.stringify(order),
      }),
    );
    expect(accepted.statusCode).toBe(202);
    const id = accepted.json().id as string;
    // The relay has tried to publish it (the request flushed after its commit) and is waiting on Redis.
    await new Promise((r) => setTimeout(r, 1000));

    const idle = await pg.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity
        WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
    );
    expect(Number(idle.rows[0]!.n)).toBe(0);
    // Nobody holds the pending row: another relay (or an operator) can lock it at once.
    await pg.query('BEGIN');
    const locked = await pg.query(
      `SELECT id FROM gateway.outbox WHERE published_at IS NULL AND payload->>'intentId' = $1 FOR UPDATE NOWAIT`,
      [id],
    );
    await pg.query('ROLLBACK');
    expect(locked.rowCount).toBe(1);

    redis.resume();
    const job = await waitFor(async () => (await intents.getJob(id)) ?? undefined, {
      what: 'the order on the intents queue once Redis answers',
    });
    expect(job.data).toMatchObject({ intentId: id });
    await waitFor(
      async () => {
        const r = await pg.query(
          `SELECT 1 FROM gateway.outbox WHERE payload->>'intentId' = $1 AND published_at IS NOT NULL`,
          [id],
        );
        return r.rowCount ? true : undefined;
      },
      { what: 'the outbox row marked published' },
    );
    expect(await intents.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed')).toEqual(
      expect.objectContaining({ failed: 0 }),
    );
  });
});

describe('a Redis that may evict keys', () => {
  let redis: PrivateRedis;
  let gw: Gateway;
  // BullMQ warns on the console for every connection to such a Redis; that is expected here.
  const consoleWarn = console.warn;

  beforeAll(async () => {
    console.warn = (...args: unknown[]) => {
      if (!String(args[0]).includes('Eviction policy')) consoleWarn(...args);
    };
    redis = await startPrivateRedis(['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru']);
    gw = await startGateway({ REDIS_URL: redis.url });
  });

  afterAll(async () => {
    await gw?.close();
    await redis?.destroy();
    console.warn = consoleWarn;
  });

  it('is reported not ready, with the policy it has and the one queues need', async () => {
    const ready = await gw.app.inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().error.redis).toMatchObject({
      status: 'down',
      maxmemoryPolicy: 'allkeys-lru',
      message: expect.stringMatching(/allkeys-lru.*noeviction/),
    });
    expect((await gw.app.inject({ url: '/health/live' })).statusCode).toBe(200);
  });
});

describe('PostgreSQL goes away under a running gateway, and comes back', () => {
  let db: { name: string; url: string };
  let link: TcpLink;
  let gw: Gateway;
  let trader: string;

  beforeAll(async () => {
    db = await createMigratedDatabase('gateway_faults');
    link = await startTcpLink(Number(new URL(db.url).port || 5432));
    const viaLink = new URL(db.url);
    viaLink.port = String(link.port);
    gw = await startGateway({ DATABASE_URL: viaLink.toString() });
    trader = (await gw.issueKey(['trader'])).key;
  });

  afterAll(async () => {
    await link?.restore().catch(() => undefined);
    await gw?.close();
    await link?.close();
    if (db && process.env.DESK_KEEP_TEST_DATA !== 'true') await dropDatabase(db.name);
  });

  const as = (key: string) => ({ authorization: `Bearer ${key}` });

  it('answers 503 (never 500) while it is gone, reports not ready, and serves again once it is back', async () => {
    const idempotencyKey = randomUUID();
    const submit = () =>
      gw.app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: { ...as(trader), 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
        payload: JSON.stringify(order),
      });
    expect((await gw.app.inject({ url: '/v1/orders', headers: as(trader) })).statusCode).toBe(200);

    await link.cut();

    for (const [what, request] of [
      ['listing orders', gw.app.inject({ url: '/v1/orders', headers: as(trader) })],
      ['submitting an order', submit()],
    ] as const) {
      const res = await answered(what, request);
      expect({ what, status: res.statusCode, code: res.json().error?.code }).toEqual({
        what,
        status: 503,
        code: 'DEPENDENCY_UNAVAILABLE',
      });
    }
    const ready = await answered('readiness', gw.app.inject({ url: '/health/ready' }));
    expect(ready.statusCode).toBe(503);
    expect(ready.json().error.postgres).toMatchObject({ status: 'down' });
    expect((await gw.app.inject({ url: '/health/live' })).statusCode).toBe(200);

    await link.restore();

    await waitFor(
      async () => ((await gw.app.inject({ url: '/health/ready' })).statusCode === 200 ? true : undefined),
      {
        what: 'readiness after PostgreSQL is back',
      },
    );
    // The order refused with 503 was not accepted: the same request (same Idempotency-Key) now is, once.
    const retried = await submit();
    expect(retried.statusCode).toBe(202);
    const list = await gw.app.inject({ url: '/v1/orders', headers: as(trader) });
    expect(list.statusCode).toBe(200);
    expect((list.json().items as { id: string }[]).filter((o) => o.id === retried.json().id)).toHaveLength(1);
  });
});
