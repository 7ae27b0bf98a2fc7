import { randomBytes } from 'node:crypto';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QueueName } from '@desk/contracts';
import { waitFor, unbatched } from '@desk/testing';
import { SecurityMetrics } from '../src/modules/access/security-metrics';
import { startGateway, type Gateway } from './gateway-harness';

const WINDOW_MS = 3000;
const MAX = 5;
const FLOOD = 400;

/**
 * The attack: one client floods the gateway with requests carrying no key or made-up keys, hoping to bloat
 * the append-only audit log (every row of which must be kept forever). Two replicas share one Redis.
 */
describe('a flood of refused requests cannot flood the audit log', () => {
  let a: Gateway;
  let b: Gateway;
  const env = {
    GATEWAY_TRUSTED_PROXIES: '127.0.0.1',
    THROTTLE_IP_LIMIT: '100',
    THROTTLE_TTL_MS: '60000',
    SECURITY_AUDIT_WINDOW_MS: String(WINDOW_MS),
    SECURITY_AUDIT_MAX_PER_WINDOW: String(MAX),
  };

  beforeAll(async () => {
    a = await startGateway(env);
    b = await startGateway(env, { prefix: a.prefix, adminKey: a.adminKey });
  });

  afterAll(async () => {
    await b.close();
    await a.close();
  });

  const from = (gw: Gateway, ip: string, authorization?: string) =>
    gw.app.inject({
      method: 'GET',
      url: '/v1/orders',
      headers: { 'x-forwarded-for': ip, ...(authorization ? { authorization } : {}) },
    });

  const auditJobs = async (): Promise<Job[]> =>
    unbatched(
      await a
        .queue(QueueName.AuditGateway)
        .getJobs(['waiting', 'active', 'completed', 'delayed', 'failed'], 0, 10_000),
    );

  const total = async (counter: SecurityMetrics['authFailures']): Promise<number> =>
    (await counter.get()).values.reduce((sum, v) => sum + v.value, 0);

  it('audits at most the bound per source and window, counts every refusal, and summarizes the rest', async () => {
    const attacker = '10.66.0.1';
    // Both replicas' counters live in this process's one prom-client registry.
    const metrics = a.app.get(SecurityMetrics);
    const before = (await total(metrics.authFailures)) + (await total(metrics.throttled));
    const madeUp: string[] = [];

    const started = Date.now();
    const statuses: number[] = [];
    for (let i = 0; i < FLOOD; i += 25) {
      const burst = Array.from({ length: 25 }, (_, j) => {
        const n = i + j;
        let authorization: string | undefined;
        if (n % 2) {
          authorization = `Bearer dsk_${randomBytes(32).toString('base64url')}`;
          madeUp.push(authorization.slice(11));
        }
        return from(n % 3 ? a : b, attacker, authorization);
      });
      statuses.push(...(await Promise.all(burst)).map((r) => r.statusCode));
    }
    const ended = Date.now();

    // The per-IP limit refused most of it; every refusal was counted.
    expect(statuses.filter((s) => s === 401)).toHaveLength(100);
    expect(statuses.filter((s) => s === 429)).toHaveLength(300);
    expect((await total(metrics.authFailures)) + (await total(metrics.throttled)) - before).toBe(FLOOD);

    // Once the windows are over, summaries carry what was not written one by one: nothing is lost.
    const fromAttacker = (jobs: Job[]) =>
      jobs.filter((j) => j.data.payload?.ip === attacker || j.data.payload?.source === `ip:${attacker}`);
    const rows = await waitFor(
      async () => {
        const jobs = fromAttacker(await auditJobs());
        const told = jobs.reduce(
          (sum, j) => sum + (j.data.payload.summary ? Number(j.data.payload.suppressed) : 1),
          0,
        );
        return told === FLOOD ? jobs : undefined;
      },
      { timeoutMs: 4 * WINDOW_MS + 10_000, what: `audit records accounting for all ${FLOOD} refusals` },
    );
    const windows = Math.floor(ended / WINDOW_MS) - Math.floor(started / WINDOW_MS) + 1;
    const single = rows.filter((j) => !j.data.payload.summary);
    const summaries = rows.filter((j) => j.data.payload.summary);
    expect(single.length).toBeLessThanOrEqual(MAX * windows);
    expect(summaries.length).toBeLessThanOrEqual(2 * windows); // auth.failed and request.throttled
    expect(rows.length).toBeLessThan(FLOOD / 10);
    for (const s of summaries) {
      expect(['auth.failed', 'request.throttled']).toContain(s.data.action);
      expect(s.data.subject).toEqual({ type: 'client', id: `ip:${attacker}` });
      expect(s.data.payload).toMatchObject({
        summary: true,
        suppressed: expect.any(Number),
        window: { start: expect.any(String), end: expect.any(String) },
      });
    }
    // No made-up key (nor any part of one) is in the log.
    const serialized = JSON.stringify(rows.map((j) => j.data));
    for (const key of madeUp.slice(0, 50)) expect(serialized).not.toContain(key.slice(0, 16));
  });

  it('still audits another source on its own, while the first is being suppressed', async () => {
    const attacker = '10.66.0.3';
    for (let i = 0; i < 3 * MAX; i++) await from(a, attacker);
    const bystander = '10.66.0.2';
    const res = await from(b, bystander, `Bearer dsk_${randomBytes(32).toString('base64url')}`);
    expect(res.statusCode).toBe(401);
    const seen = await waitFor(
      async () =>
        (await auditJobs()).find(
          (j) =>
            j.data.action === 'auth.failed' && j.data.payload.ip === bystander && !j.data.payload.summary,
        ),
      { what: 'the bystander’s failed authentication' },
    );
    expect(seen.data.payload).toMatchObject({ reason: 'unknown_key', path: '/v1/orders' });
  });

  it('aggregates refusals of a real key (access denied) by its key id', async () => {
    const viewer = await a.issueKey(['viewer']);
    for (let i = 0; i < 3 * MAX; i++) {
      const res = await (i % 2 ? a : b).app.inject({
        method: 'POST',
        url: '/v1/operators',
        headers: { authorization: `Bearer ${viewer.key}` },
        payload: { name: 'mallory' },
      });
      expect(res.statusCode).toBe(403);
    }
    const denials = await waitFor(
      async () => {
        const jobs = (await auditJobs()).filter(
          (j) =>
            j.data.action === 'access.denied' &&
            (j.data.actor.keyId === viewer.keyId || j.data.subject.id === `key:${viewer.keyId}`),
        );
        const told = jobs.reduce(
          (sum, j) => sum + (j.data.payload.summary ? Number(j.data.payload.suppressed) : 1),
          0,
        );
        return told === 3 * MAX ? jobs : undefined;
      },
      { timeoutMs: 4 * WINDOW_MS + 10_000, what: 'access denials of the viewer, audited or summarized' },
    );
    expect(denials.filter((j) => !j.data.payload.summary).length).toBeLessThanOrEqual(2 * MAX);
    expect(denials.some((j) => j.data.payload.summary)).toBe(true);
  });
});
