import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QueueName } from '@desk/contracts';
import { Redis } from 'ioredis';
import { testEnv, uniquePrefix, waitFor, unbatched } from '@desk/testing';
import { startGateway, type Gateway } from './gateway-harness';

/** Two gateway instances sharing one Redis prefix: two replicas behind a load balancer. */
describe('throttling across gateway instances (real Redis)', () => {
  const limits = {
    THROTTLE_LIMIT: '10',
    THROTTLE_IP_LIMIT: '1000',
    THROTTLE_ORDER_LIMIT: '3',
    THROTTLE_TTL_MS: '60000',
  };
  let a: Gateway;
  let b: Gateway;
  /** Issues the keys (the grants take admin and approver requests) on a Redis prefix of its own, so its
   * requests count against none of the limits under test. */
  let issuer: Gateway;

  beforeAll(async () => {
    issuer = await startGateway();
    a = await startGateway(limits);
    b = await startGateway(limits, { prefix: a.prefix, adminKey: a.adminKey, approverKeys: a.approverKeys });
  });

  afterAll(async () => {
    await b.close();
    await a.close();
    await issuer.close();
  });

  const get = (gw: Gateway, key: string) =>
    gw.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${key}` } });

  it('holds one per-key limit across both instances, then answers 429 with Retry-After', async () => {
    const { key } = await issuer.issueKey(['viewer']);
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) statuses.push((await get(i % 2 ? b : a, key)).statusCode);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.slice(10)).toEqual([429, 429, 429, 429]);
    const refused = await get(b, key);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(refused.json().error.code).toBe('RATE_LIMITED');
    // Another key is not affected.
    const other = await issuer.issueKey(['viewer']);
    expect((await get(b, other.key)).statusCode).toBe(200);
  });

  it('admits exactly the limit from a concurrent burst (the counter is atomic)', async () => {
    const { key } = await issuer.issueKey(['viewer']);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => get(i % 2 ? b : a, key)));
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(10);
    expect(results.filter((r) => r.statusCode === 429)).toHaveLength(30);
  });

  it('limits order submission more tightly, and audits the throttle hit with the key id', async () => {
    const trader = await issuer.issueKey(['trader']);
    const order = { symbol: 'BTC/USDT', side: 'buy', type: 'limit', quantity: '0.001', price: '100' };
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await (i % 2 ? b : a).app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: { authorization: `Bearer ${trader.key}`, 'idempotency-key': randomUUID() },
        payload: order,
      });
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
    expect((await get(a, trader.key)).statusCode).toBe(200);
    const audit = a.queue(QueueName.AuditGateway);
    const hit = await waitFor(async () => {
      const jobs = unbatched(await audit.getJobs(['waiting', 'completed', 'active'], 0, 5000));
      return jobs.find((j) => j.data?.action === 'request.throttled' && j.data.subject.id === trader.keyId);
    });
    expect(hit.data.payload).toMatchObject({ limit: 'orders', max: 3, path: '/v1/orders' });
    expect(JSON.stringify(hit.data)).not.toContain(trader.key.slice(4, 20));
  });
});

/**
 * Limits of 2 × 20 and more are taken from Redis in leases (a twentieth of the limit at a time) and counted
 * in memory (LeasedThrottlerStorage): fewer round trips, and still never more than the limit in a window.
 */
describe('throttling with leased budgets (real Redis)', () => {
  const limits = { THROTTLE_LIMIT: '100', THROTTLE_IP_LIMIT: '100000', THROTTLE_TTL_MS: '60000' };
  let issuer: Gateway;
  let a: Gateway;
  let b: Gateway;
  let redis: Redis;

  beforeAll(async () => {
    issuer = await startGateway();
    a = await startGateway(limits);
    b = await startGateway(limits, { prefix: a.prefix, adminKey: a.adminKey, approverKeys: a.approverKeys });
    redis = new Redis(testEnv().redisUrl);
  });

  afterAll(async () => {
    redis.disconnect();
    await b.close();
    await a.close();
    await issuer.close();
  });

  const get = (gw: Gateway, key: string) =>
    gw.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${key}` } });
  const sharedHits = async (keyId: string) =>
    Number(await redis.get(`{${a.prefix}:throttle:key:key:${keyId}:key}:hits`));

  it('one instance admits exactly the limit, asking Redis once per lease of 5', async () => {
    const { key, keyId } = await issuer.issueKey(['viewer']);
    expect((await get(a, key)).statusCode).toBe(200);
    // The first request reserved a lease: the shared counter shows five, not one.
    expect(await sharedHits(keyId)).toBe(5);
    const statuses: number[] = [];
    for (let i = 0; i < 109; i++) statuses.push((await get(a, key)).statusCode);
    expect(statuses.filter((s) => s === 200)).toHaveLength(99);
    expect(statuses.slice(99).every((s) => s === 429)).toBe(true);
    expect(await sharedHits(keyId)).toBe(100);
  });

  it('two instances together never admit more than the limit, from a concurrent burst', async () => {
    const { key, keyId } = await issuer.issueKey(['viewer']);
    const results = await Promise.all(Array.from({ length: 160 }, (_, i) => get(i % 2 ? b : a, key)));
    const admitted = results.filter((r) => r.statusCode === 200).length;
    expect(admitted).toBeLessThanOrEqual(100);
    // At most one lease less one request can sit unused on the other instance.
    expect(admitted).toBeGreaterThanOrEqual(96);
    expect(results.filter((r) => r.statusCode === 429)).toHaveLength(160 - admitted);
    expect(await sharedHits(keyId)).toBe(100);
    const refused = await get(a, key);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('throttling per client IP, before authentication', () => {
  it('limits a client sending bad keys, and trusts X-Forwarded-For only from configured proxies', async () => {
    const limits = { THROTTLE_IP_LIMIT: '5', THROTTLE_TTL_MS: '60000' };
    const direct = await startGateway({ ...limits, REDIS_PREFIX: uniquePrefix('ip') });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        // A different X-Forwarded-For each time: ignored, since no proxy is trusted.
        const res = await direct.app.inject({
          method: 'GET',
          url: '/v1/me',
          headers: { authorization: 'Bearer dsk_nope', 'x-forwarded-for': `10.0.0.${i}` },
        });
        statuses.push(res.statusCode);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    } finally {
      await direct.close();
    }
    const proxied = await startGateway({ ...limits, GATEWAY_TRUSTED_PROXIES: '127.0.0.1' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        const res = await proxied.app.inject({
          method: 'GET',
          url: '/v1/me',
          headers: { authorization: 'Bearer dsk_nope', 'x-forwarded-for': `10.0.1.${i}` },
        });
        statuses.push(res.statusCode);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 401]);
    } finally {
      await proxied.close();
    }
  });
});
