import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QueueName } from '@desk/contracts';
import { createMigratedDatabase, dropDatabase, waitFor, unbatched } from '@desk/testing';
import { holderKey, startGateway, type Gateway } from './gateway-harness';
import { loadGatewayConfig } from '../src/config';

const UNAUTHORIZED = { code: 'UNAUTHORIZED', message: 'missing or invalid API key' };

describe('gateway access control (real PostgreSQL and Redis)', () => {
  let gw: Gateway;
  // Second instances (another replica; one with CORS origins; one on its own database with a single admin)
  // live as long as the first, so none is closed while its queue workers are still starting.
  let other: Gateway;
  let allowed: Gateway;
  /** API docs: off by NODE_ENV=production, off by GATEWAY_API_DOCS=false, and on again by =true. */
  let docs: { production: Gateway; off: Gateway; on: Gateway };
  let solo: Gateway;
  let soloDb: { name: string; url: string };
  let pg: Client;

  beforeAll(async () => {
    gw = await startGateway();
    other = await startGateway(
      {},
      { prefix: gw.prefix, adminKey: gw.adminKey, approverKeys: gw.approverKeys },
    );
    allowed = await startGateway(
      { GATEWAY_CORS_ORIGINS: 'https://desk.example.com' },
      { prefix: gw.prefix, adminKey: gw.adminKey, approverKeys: gw.approverKeys },
    );
    const shared = { prefix: gw.prefix, adminKey: gw.adminKey, approverKeys: gw.approverKeys };
    docs = {
      production: await startGateway({ NODE_ENV: 'production' }, shared),
      off: await startGateway({ GATEWAY_API_DOCS: 'false' }, shared),
      on: await startGateway({ NODE_ENV: 'production', GATEWAY_API_DOCS: 'true' }, shared),
    };
    soloDb = await createMigratedDatabase('lastadmin');
    solo = await startGateway({ DATABASE_URL: soloDb.url });
    pg = new Client({ connectionString: gw.config.DATABASE_URL });
    await pg.connect();
  });

  afterAll(async () => {
    await Promise.all([
      solo.close(),
      allowed.close(),
      other.close(),
      docs.production.close(),
      docs.off.close(),
      docs.on.close(),
    ]);
    await gw.close();
    await dropDatabase(soloDb.name);
    await pg?.end();
  });

  const as = (
    key: string | undefined,
    method: 'GET' | 'POST',
    url: string,
    payload?: object,
    headers: Record<string, string> = {},
  ) =>
    gw.app.inject({
      method,
      url,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      ...(payload ? { payload } : {}),
    });

  const auditJobs = async (action: string): Promise<Job[]> => {
    const jobs = unbatched(
      await gw
        .queue(QueueName.AuditGateway)
        .getJobs(['waiting', 'active', 'completed', 'delayed', 'failed'], 0, 5000),
    );
    return jobs.filter((j) => j.data?.action === action);
  };

  it('answers every kind of bad credential with the same generic 401, and audits why without the key', async () => {
    const revoked = await gw.issueKey(['viewer']);
    await as(gw.adminKey, 'POST', `/v1/keys/${revoked.keyId}/revoke`);
    const expiring = await gw.issueKey(['viewer'], { expiresAt: new Date(Date.now() + 1500).toISOString() });
    const disabled = await gw.issueKey(['viewer']);
    await as(gw.adminKey, 'POST', `/v1/operators/${disabled.operatorId}/disable`);
    await new Promise((r) => setTimeout(r, 1600));

    const attempts: Record<string, string | undefined> = {
      missing: undefined,
      malformed: 'Basic dXNlcjpwYXNz',
      'wrong length': 'Bearer dsk_short',
      'far too long': `Bearer dsk_${'A'.repeat(5000)}`,
      unknown: `Bearer dsk_${'A'.repeat(43)}`,
      revoked: `Bearer ${revoked.key}`,
      expired: `Bearer ${expiring.key}`,
      'operator disabled': `Bearer ${disabled.key}`,
    };
    for (const [what, authorization] of Object.entries(attempts)) {
      const res = await gw.app.inject({
        method: 'GET',
        url: '/v1/orders',
        headers: authorization ? { authorization } : {},
      });
      expect({ what, status: res.statusCode, error: res.json().error }).toMatchObject({
        what,
        status: 401,
        error: UNAUTHORIZED,
      });
    }
    const failures = await waitFor(async () => {
      const jobs = await auditJobs('auth.failed');
      return jobs.length >= 8 ? jobs : undefined;
    });
    const reasons = failures.map((j) => j.data.payload.reason);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'missing',
        'malformed',
        'unknown_key',
        'revoked',
        'expired',
        'operator_disabled',
      ]),
    );
    const revokedFailure = failures.find((j) => j.data.payload.reason === 'revoked');
    expect(revokedFailure?.data.payload.keyId).toBe(revoked.keyId);
    const serialized = JSON.stringify(failures.map((j) => j.data));
    for (const k of [revoked.key, expiring.key, disabled.key])
      expect(serialized).not.toContain(k.slice(4, 20));
  });

  it('refuses a key sent in the query string', async () => {
    const { key } = await gw.issueKey(['viewer']);
    for (const param of ['api_key', 'key', 'token', 'access_token']) {
      const res = await gw.app.inject({ method: 'GET', url: `/v1/orders?${param}=${key}` });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('CREDENTIALS_IN_QUERY');
      expect(res.body).not.toContain(key);
    }
  });

  it('answers 403 for a key without the role, audits the denial, and lets a viewer change nothing', async () => {
    const viewer = await gw.issueKey(['viewer']);
    const trader = await gw.issueKey(['trader']);
    const order = { symbol: 'BTC/USDT', side: 'buy', type: 'limit', quantity: '0.01', price: '100' };
    const denied = await as(viewer.key, 'POST', '/v1/orders', order, { 'idempotency-key': randomUUID() });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe('FORBIDDEN');
    expect((await as(viewer.key, 'POST', '/v1/operators', { name: 'mallory' })).statusCode).toBe(403);
    expect((await as(trader.key, 'POST', '/v1/operators', { name: 'mallory' })).statusCode).toBe(403);
    expect((await as(trader.key, 'GET', '/v1/keys')).statusCode).toBe(403);
    expect((await as(viewer.key, 'GET', '/v1/orders')).statusCode).toBe(200);
    const submissions = await pg.query(
      `SELECT count(*)::int AS n FROM gateway.operators WHERE name = 'mallory'`,
    );
    expect(submissions.rows[0].n).toBe(0);
    const denials = await waitFor(async () => {
      const jobs = (await auditJobs('access.denied')).filter((j) => j.data.actor.keyId === viewer.keyId);
      return jobs.length >= 2 ? jobs : undefined;
    });
    expect(denials[0]!.data.payload).toMatchObject({ held: ['viewer'] });
  });

  it('tells a caller who they are', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const k = await gw.issueKey(['trader', 'viewer'], { expiresAt });
    const me = await as(k.key, 'GET', '/v1/me');
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({
      operator: { id: k.operatorId, status: 'active' },
      keyId: k.keyId,
      roles: ['trader', 'viewer'],
      expiresAt,
    });
  });

  it('shows a key once, lists keys without them, and revocation takes effect on the next request', async () => {
    const k = await gw.issueKey(['viewer']);
    expect(k.key).toMatch(/^dsk_[A-Za-z0-9_-]{43}$/);
    const list = await as(gw.adminKey, 'GET', `/v1/keys?operatorId=${k.operatorId}`);
    expect(list.json().items).toEqual([
      expect.objectContaining({ keyId: k.keyId, status: 'active', roles: ['viewer'] }),
    ]);
    expect(list.body).not.toContain(k.key.slice(4, 16));
    expect((await as(k.key, 'GET', '/v1/me')).statusCode).toBe(200);
    const revoked = await as(gw.adminKey, 'POST', `/v1/keys/${k.keyId}/revoke`);
    expect(revoked.json()).toMatchObject({ keyId: k.keyId, status: 'revoked' });
    expect((await as(k.key, 'GET', '/v1/me')).statusCode).toBe(401);
    const events = await waitFor(async () => {
      const jobs = (await auditJobs('key.revoked')).filter((j) => j.data.subject.id === k.keyId);
      return jobs.length ? jobs : undefined;
    });
    expect(events[0]!.data.actor.type).toBe('operator');
  });

  it('revocation on one gateway instance is refused by another as soon as the commit is announced', async () => {
    const k = await gw.issueKey(['viewer']);
    const me = () =>
      other.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${k.key}` } });
    expect((await me()).statusCode).toBe(200); // now cached by the other instance
    await as(gw.adminKey, 'POST', `/v1/keys/${k.keyId}/revoke`);
    // The announcement travels from PostgreSQL to every listening gateway when the revoke commits.
    await waitFor(async () => ((await me()).statusCode === 401 ? true : undefined), {
      timeoutMs: 1000,
      what: 'the other instance to refuse the revoked key',
    });
  });

  describe('cached credentials (CredentialCache, LISTEN gateway_credentials_changed)', () => {
    const me = (key: string) => as(key, 'GET', '/v1/me');
    const refusedSoon = (key: string, what: string) =>
      waitFor(async () => ((await me(key)).statusCode === 401 ? true : undefined), {
        timeoutMs: 1000,
        what,
      });

    it('a key revoked straight in the table (the console, another writer) is refused once the commit is announced', async () => {
      const k = await gw.issueKey(['viewer']);
      expect((await me(k.key)).statusCode).toBe(200);
      expect((await me(k.key)).statusCode).toBe(200);
      await pg.query(`UPDATE gateway.api_keys SET status = 'revoked', revoked_at = now() WHERE id = $1`, [
        k.keyId,
      ]);
      await refusedSoon(k.key, 'the revoked key to be refused');
    });

    it('an operator disabled straight in the table loses every cached key', async () => {
      const k = await gw.issueKey(['viewer']);
      expect((await me(k.key)).statusCode).toBe(200);
      await pg.query(`UPDATE gateway.operators SET status = 'disabled', disabled_at = now() WHERE id = $1`, [
        k.operatorId,
      ]);
      await refusedSoon(k.key, 'the disabled operator’s key to be refused');
    });

    it('an expiry reached while the key is cached is refused on time', async () => {
      const k = await gw.issueKey(['viewer']);
      await pg.query(`UPDATE gateway.api_keys SET expires_at = now() + interval '1 second' WHERE id = $1`, [
        k.keyId,
      ]);
      await waitFor(async () => ((await me(k.key)).statusCode === 200 ? true : undefined), {
        what: 'the key to be served (and cached) with its new expiry',
      });
      await new Promise((r) => setTimeout(r, 1100));
      expect((await me(k.key)).statusCode).toBe(401);
    });

    it('who-am-I answers from the cached credential, and shows a rename made straight in the table', async () => {
      const k = await gw.issueKey(['viewer']);
      const before = await me(k.key);
      expect(before.statusCode).toBe(200);
      expect(before.json()).toMatchObject({
        operator: { id: k.operatorId, status: 'active' },
        keyId: k.keyId,
      });
      const renamed = `renamed-${k.keyId}`;
      await pg.query(`UPDATE gateway.operators SET name = $1 WHERE id = $2`, [renamed, k.operatorId]);
      await waitFor(async () => ((await me(k.key)).json().operator.name === renamed ? true : undefined), {
        timeoutMs: 1000,
        what: 'who-am-I to show the new name',
      });
    });

    it('with its listening connection killed, the gateway caches nothing it could not hear about', async () => {
      const k = await gw.issueKey(['viewer']);
      expect((await me(k.key)).statusCode).toBe(200);
      // Kill every gateway's listener: no announcement can reach them now.
      const killed = await pg.query(
        `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
          WHERE datname = current_database() AND query LIKE 'LISTEN gateway_credentials_changed%'`,
      );
      expect(killed.rowCount).toBeGreaterThan(0);
      await pg.query(`UPDATE gateway.api_keys SET status = 'revoked', revoked_at = now() WHERE id = $1`, [
        k.keyId,
      ]);
      expect((await me(k.key)).statusCode).toBe(401);
      // It listens again and serves (and caches) keys as before.
      const fresh = await gw.issueKey(['viewer']);
      await waitFor(
        async () => {
          const listeners = await pg.query(
            `SELECT 1 FROM pg_stat_activity
              WHERE datname = current_database() AND query LIKE 'LISTEN gateway_credentials_changed%'`,
          );
          return listeners.rowCount ? true : undefined;
        },
        { what: 'the listener to come back' },
      );
      expect((await me(fresh.key)).statusCode).toBe(200);
    });
  });

  it('rotation is done by the holder with a key they generated; the old key works for the overlap only', async () => {
    const k = await gw.issueKey(['trader']);
    const next = holderKey();
    const rotated = await as(k.key, 'POST', '/v1/me/key/rotate', {
      keyId: next.keyId,
      digest: next.digest,
      overlapSeconds: 2,
    });
    expect(rotated.statusCode).toBe(201);
    const fresh = rotated.json();
    expect(fresh).not.toHaveProperty('key');
    expect(fresh).toMatchObject({ keyId: next.keyId, roles: ['trader'], operatorId: k.operatorId });
    expect(fresh.previous).toMatchObject({ keyId: k.keyId, rotatedTo: next.keyId });
    expect((await as(next.key, 'GET', '/v1/me')).json().keyId).toBe(next.keyId);
    expect((await as(k.key, 'GET', '/v1/me')).statusCode).toBe(200);
    // Rotating again with the old key, or reusing a registered key id, is refused.
    const again = holderKey();
    expect(
      (await as(k.key, 'POST', '/v1/me/key/rotate', { keyId: again.keyId, digest: again.digest })).statusCode,
    ).toBe(409);
    expect(
      (await as(next.key, 'POST', '/v1/me/key/rotate', { keyId: next.keyId, digest: next.digest }))
        .statusCode,
    ).toBe(409);
    await new Promise((r) => setTimeout(r, 2100));
    expect((await as(k.key, 'GET', '/v1/me')).statusCode).toBe(401);
    expect((await as(next.key, 'GET', '/v1/me')).statusCode).toBe(200);
    const events = await waitFor(async () => {
      const jobs = (await auditJobs('key.rotated')).filter((j) => j.data.subject.id === next.keyId);
      return jobs.length ? jobs : undefined;
    });
    expect(events[0]!.data.actor).toMatchObject({ type: 'operator', id: k.operatorId, keyId: k.keyId });
  });

  it('serves no API docs in production unless told to, and can be told either way', async () => {
    {
      for (const g of [docs.production, docs.off]) {
        expect((await g.app.inject({ url: '/docs' })).statusCode).toBe(404);
        expect((await g.app.inject({ url: '/docs/openapi.json' })).statusCode).toBe(404);
        const csp = String((await g.app.inject({ url: '/health/live' })).headers['content-security-policy']);
        expect(csp).toMatch(/(^|;)script-src 'self'(;|$)/);
      }
      expect((await docs.on.app.inject({ url: '/docs/openapi.json' })).statusCode).toBe(200);
      expect((await gw.app.inject({ url: '/docs/openapi.json' })).statusCode).toBe(200);
      expect(() =>
        loadGatewayConfig({ DATABASE_URL: gw.config.DATABASE_URL, GATEWAY_API_DOCS: 'maybe' }),
      ).toThrow(/GATEWAY_API_DOCS/);
    }
  });

  it('gives an admin no way to hold or rotate somebody else’s key', async () => {
    const k = await gw.issueKey(['approver']);
    // The admin-side rotation that used to hand the admin a working copy of the new key is gone.
    expect((await as(gw.adminKey, 'POST', `/v1/keys/${k.keyId}/rotate`, {})).statusCode).toBe(404);
    // Registration takes a digest, never returns a key, and refuses a key sent in its place.
    const held = holderKey();
    const res = await as(gw.adminKey, 'POST', `/v1/operators/${k.operatorId}/keys`, {
      roles: ['viewer'],
      keyId: held.keyId,
      digest: held.digest,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).not.toHaveProperty('key');
    const withKey = await as(gw.adminKey, 'POST', `/v1/operators/${k.operatorId}/keys`, {
      roles: ['viewer'],
      key: held.key,
    });
    expect(withKey.statusCode).toBe(400);
    expect(withKey.body).not.toContain(held.key);
  });

  it('never lets the last admin key or the last admin go (own database, one admin)', async () => {
    {
      const me = (
        await solo.app.inject({
          method: 'GET',
          url: '/v1/me',
          headers: { authorization: `Bearer ${solo.adminKey}` },
        })
      ).json();
      const revoke = await solo.app.inject({
        method: 'POST',
        url: `/v1/keys/${me.keyId}/revoke`,
        headers: { authorization: `Bearer ${solo.adminKey}` },
      });
      expect(revoke.statusCode).toBe(409);
      expect(revoke.json().error).toMatchObject({
        code: 'CONFLICT',
        message: 'this would leave no active admin key',
      });
      const disable = await solo.app.inject({
        method: 'POST',
        url: `/v1/operators/${me.operator.id}/disable`,
        headers: { authorization: `Bearer ${solo.adminKey}` },
      });
      expect(disable.statusCode).toBe(409);
      expect(
        (
          await solo.app.inject({
            method: 'GET',
            url: '/v1/me',
            headers: { authorization: `Bearer ${solo.adminKey}` },
          })
        ).statusCode,
      ).toBe(200);
      // With a second admin, the first can go.
      const second = await solo.issueKey(['admin']);
      expect(
        (
          await solo.app.inject({
            method: 'POST',
            url: `/v1/keys/${me.keyId}/revoke`,
            headers: { authorization: `Bearer ${second.key}` },
          })
        ).statusCode,
      ).toBe(200);
    }
  });

  it('keeps no key material in the database: a full dump contains none of the keys issued', async () => {
    const keys = [
      await gw.issueKey(['viewer']),
      await gw.issueKey(['trader']),
      await gw.issueKey(['admin']),
    ].map((k) => k.key);
    const dump = execFileSync('pg_dump', ['--data-only', '--no-owner', gw.config.DATABASE_URL], {
      encoding: 'utf8',
      maxBuffer: 512 * 1024 * 1024,
    });
    expect(dump).toContain('kid_');
    for (const key of [...keys, gw.adminKey]) {
      const secret = key.slice(4);
      // No 8-character window of the secret part, in any encoding PostgreSQL would use for text.
      for (let i = 0; i + 8 <= secret.length; i += 4) expect(dump).not.toContain(secret.slice(i, i + 8));
    }
  });

  it('answers 404, and nothing more, for ids that do not exist or are not ids', async () => {
    for (const url of [
      `/v1/orders/${randomUUID()}`,
      '/v1/orders/..%2F..%2Fetc',
      '/v1/orders/%F0%9F%92%A5',
      '/v1/orders/a%E2%80%AEb',
    ]) {
      const res = await as(gw.adminKey, 'GET', url);
      expect(res.statusCode).toBe(404);
      expect(Object.keys(res.json().error).sort()).toEqual(['code', 'message', 'requestId']);
    }
    expect((await as(gw.adminKey, 'POST', '/v1/keys/kid_%F0%9F%92%A5/revoke')).statusCode).toBe(404);
    expect((await as(gw.adminKey, 'POST', `/v1/operators/${randomUUID()}/disable`)).statusCode).toBe(404);
  });

  it('answers with its request id on every answer: served, refused, not found, bad body, URL too long', async () => {
    const cases = [
      await as(gw.adminKey, 'GET', '/v1/me', undefined, { 'x-request-id': 'req-served' }),
      await as('not-a-key', 'GET', '/v1/me', undefined, { 'x-request-id': 'req-refused' }),
      await as(gw.adminKey, 'GET', '/v1/no-such-route', undefined, { 'x-request-id': 'req-missing' }),
      await gw.app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: {
          authorization: `Bearer ${gw.adminKey}`,
          'content-type': 'application/json',
          'x-request-id': 'req-bad-json',
        },
        payload: '{"symbol":',
      }),
      await as(gw.adminKey, 'GET', `/v1/orders?${'a'.repeat(5000)}`, undefined, {
        'x-request-id': 'req-too-long',
      }),
    ];
    expect(cases.map((res) => [res.statusCode, res.headers['x-request-id']])).toEqual([
      [200, 'req-served'],
      [401, 'req-refused'],
      [404, 'req-missing'],
      [400, 'req-bad-json'],
      [414, 'req-too-long'],
    ]);
    for (const res of cases.slice(1))
      expect(res.json<{ error: { requestId: string } }>().error.requestId).toBe(res.headers['x-request-id']);
    // Without one given, a fresh id: the same in the header and in the error body.
    const fresh = await as('not-a-key', 'GET', '/v1/me');
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(fresh.json<{ error: { requestId: string } }>().error.requestId).toBe(
      fresh.headers['x-request-id'],
    );
  });

  it('sets security headers and answers CORS only for configured origins', async () => {
    // helmet's defaults, on every answer: served, refused, not found, and in production's strict CSP.
    const expected = {
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'origin-agent-cluster': '?1',
      'x-dns-prefetch-control': 'off',
      'x-download-options': 'noopen',
      'x-permitted-cross-domain-policies': 'none',
      'x-xss-protection': '0',
    };
    for (const res of [
      await as(gw.adminKey, 'GET', '/v1/me'),
      await as('not-a-key', 'GET', '/v1/me'),
      await as(gw.adminKey, 'GET', '/v1/no-such-route'),
      await docs.production.app.inject({ url: '/v1/me' }),
    ]) {
      expect(res.headers).toMatchObject(expected);
      expect(String(res.headers['content-security-policy'])).toMatch(/(^|;)default-src 'self'(;|$)/);
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
    expect((await as('not-a-key', 'GET', '/v1/me')).statusCode).toBe(401);
    expect(
      String((await docs.production.app.inject({ url: '/v1/me' })).headers['content-security-policy']),
    ).toMatch(/(^|;)script-src 'self'(;|$)/);
    const preflight = await gw.app.inject({
      method: 'OPTIONS',
      url: '/v1/orders',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    {
      const ok = await allowed.app.inject({
        method: 'OPTIONS',
        url: '/v1/orders',
        headers: { origin: 'https://desk.example.com', 'access-control-request-method': 'POST' },
      });
      expect(ok.headers['access-control-allow-origin']).toBe('https://desk.example.com');
      const other = await allowed.app.inject({
        method: 'OPTIONS',
        url: '/v1/orders',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    }
  });
});
