import { Client } from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  generateSigningKey,
  hashRecord,
  parsePrivateKey,
  RECORD_COLUMNS_SQL,
  signCheckpoint,
  type ChainedRecord,
} from '@desk/audit-chain';
import { waitFor } from '@desk/testing';
import { AuditVerificationRepository } from '../src/modules/audit-trail/audit-verification.repository';
import { startGateway, type Gateway } from './gateway-harness';

const SIGNING = generateSigningKey();
const RECORDS = 12;
const TABLES = ['audit_events', 'chain_head', 'checkpoints'];

/**
 * Full-chain verification through the gateway, attacked: by a viewer trying to start scans, by many callers
 * at once, by a slow database, and by a superuser who cuts the tail of the log and moves the head back.
 */
describe('audit verification runs (real PostgreSQL and Redis)', () => {
  let a: Gateway;
  let b: Gateway;
  let pg: Client;
  let hashes: string[];

  /** As the superuser, with the append-only triggers switched off: what an attacker with DB access does. */
  async function asSuperuser(...statements: (string | [string, unknown[]])[]): Promise<void> {
    await pg.query('BEGIN');
    try {
      for (const t of TABLES) await pg.query(`ALTER TABLE audit.${t} DISABLE TRIGGER USER`);
      for (const s of statements) await (typeof s === 'string' ? pg.query(s) : pg.query(s[0], s[1]));
      for (const t of TABLES) await pg.query(`ALTER TABLE audit.${t} ENABLE TRIGGER USER`);
      await pg.query('COMMIT');
    } catch (error) {
      await pg.query('ROLLBACK');
      throw error;
    }
  }

  /** The same chain of RECORDS records every time (deterministic ids and times), signed at its head. */
  async function seedChain(): Promise<void> {
    await asSuperuser(
      'DELETE FROM audit.audit_events',
      'DELETE FROM audit.checkpoints',
      `INSERT INTO audit.audit_events (seq, event_id, occurred_at, recorded_at, actor_type, actor_id, actor_key_id,
         action, subject_type, subject_id, payload, correlation_id, prev_hash, hash)
       SELECT g, md5('event' || g)::uuid, timestamptz '2026-01-01T00:00:00Z' + g * interval '1 second',
              timestamptz '2026-01-01T00:00:00Z' + g * interval '1 second', 'service', 'test', NULL,
              'test.event', 'test', g::text, '{"n":' || g || '}', 'c' || g, '', ''
         FROM generate_series(1, ${RECORDS}) g`,
    );
    const rows = (
      await pg.query<ChainedRecord>(`SELECT ${RECORD_COLUMNS_SQL} FROM audit.audit_events e ORDER BY e.seq`)
    ).rows;
    let prev = '0'.repeat(64);
    const updates: [string, unknown[]][] = [];
    hashes = [];
    for (const row of rows) {
      const hash = hashRecord(prev, row);
      updates.push([
        `UPDATE audit.audit_events SET prev_hash = $2, hash = $3 WHERE seq = $1`,
        [row.seq, prev, hash],
      ]);
      hashes.push(hash);
      prev = hash;
    }
    const cp = signCheckpoint({ seq: String(RECORDS), hash: prev }, parsePrivateKey(SIGNING.privateKey));
    await asSuperuser(
      ...updates,
      [
        `INSERT INTO audit.chain_head (id, seq, hash) VALUES (1, $1, $2)
           ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash`,
        [RECORDS, prev],
      ],
      [
        `INSERT INTO audit.checkpoints (seq, hash, signature, key_id, public_key) VALUES ($1, $2, $3, $4, $5)`,
        [cp.seq, cp.hash, cp.signature, cp.keyId, cp.publicKey],
      ],
    );
  }

  beforeAll(async () => {
    const env = { AUDIT_SIGNING_PUBLIC_KEY: SIGNING.publicKey };
    a = await startGateway(env);
    b = await startGateway(env, { prefix: a.prefix, adminKey: a.adminKey });
    pg = new Client({ connectionString: a.config.DATABASE_URL });
    await pg.connect();
  });

  beforeEach(async () => {
    await seedChain();
  });

  afterAll(async () => {
    await pg?.end();
    await b.close();
    await a.close();
  });

  const start = (gw: Gateway, key: string, payload: object = {}) =>
    gw.app.inject({
      method: 'POST',
      url: '/v1/audit/verifications',
      headers: { authorization: `Bearer ${key}` },
      payload,
    });

  /** Polls the run until it has a verdict. */
  const verdict = (gw: Gateway, id: string, timeoutMs = 15_000) =>
    waitFor(
      async () => {
        const res = await gw.app.inject({
          method: 'GET',
          url: `/v1/audit/verifications/${id}`,
          headers: { authorization: `Bearer ${gw.adminKey}` },
        });
        expect(res.statusCode).toBe(200);
        const run = res.json();
        return run.status === 'running' ? undefined : run;
      },
      { timeoutMs, what: `verification ${id} to finish` },
    );

  it('refuses a viewer (or a trader) who asks for a full verification: 403, nothing started', async () => {
    const viewer = await a.issueKey(['viewer']);
    const trader = await a.issueKey(['trader']);
    for (const key of [viewer.key, trader.key]) {
      const res = await start(a, key);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
    }
    const read = await a.app.inject({
      method: 'GET',
      url: '/v1/audit/verifications/00000000-0000-4000-8000-000000000000',
      headers: { authorization: `Bearer ${viewer.key}` },
    });
    expect(read.statusCode).toBe(403);
    // The old synchronous endpoint is gone.
    const old = await a.app.inject({
      method: 'GET',
      url: '/v1/audit/verify',
      headers: { authorization: `Bearer ${viewer.key}` },
    });
    expect(old.statusCode).toBe(404);
  });

  it('runs off the request path: 202 with an id, then the verdict (ok, up to the signed head)', async () => {
    const res = await start(a, a.adminKey);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ id: expect.any(String), status: 'running' });
    const run = await verdict(b, res.json().id);
    expect(run).toMatchObject({
      status: 'ok',
      result: {
        ok: true,
        head: { seq: String(RECORDS), hash: hashes[RECORDS - 1] },
        keysTrusted: true,
        latestCheckpoint: { seq: String(RECORDS), keyId: SIGNING.keyId },
      },
    });
  });

  it('detects a cut tail with the chain head moved back (against the latest signed checkpoint)', async () => {
    await asSuperuser('DELETE FROM audit.audit_events WHERE seq > 9', [
      `UPDATE audit.chain_head SET seq = 9, hash = $1`,
      [hashes[8]],
    ]);
    const run = await verdict(a, (await start(a, a.adminKey)).json().id);
    expect(run).toMatchObject({
      status: 'tampered',
      result: { ok: false, firstBadSeq: '10', kind: 'truncated' },
    });
    expect(run.message).toMatch(/first bad seq 10 \(truncated\)/);
  });

  it('detects the cut even when the checkpoints after it are deleted too (the head it saw is kept)', async () => {
    // An earlier run saw the signed head (the previous tests ran one too; this makes the test stand alone).
    expect((await verdict(a, (await start(a, a.adminKey)).json().id)).status).toBe('ok');
    await asSuperuser('DELETE FROM audit.audit_events WHERE seq > 9', 'DELETE FROM audit.checkpoints', [
      `UPDATE audit.chain_head SET seq = 9, hash = $1`,
      [hashes[8]],
    ]);
    const run = await verdict(b, (await start(b, b.adminKey)).json().id);
    expect(run).toMatchObject({
      status: 'tampered',
      witness: `${RECORDS}:${hashes[RECORDS - 1]}`,
      result: { firstBadSeq: '10', kind: 'truncated' },
    });
    expect(run.message).toMatch(/signed head 12 an earlier verification saw/);
    // And against a head the caller holds (an exported checkpoint).
    const held = await verdict(a, (await start(a, a.adminKey, { heads: [`11:${hashes[10]}`] })).json().id);
    expect(held).toMatchObject({ status: 'tampered', result: { kind: 'truncated' } });
  });

  it('runs one scan for many concurrent requests: every caller gets the same run', async () => {
    const blocker = new Client({ connectionString: a.config.DATABASE_URL });
    await blocker.connect();
    try {
      // A slow scan: the log is locked, so the run stays running while the requests arrive.
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE audit.audit_events IN ACCESS EXCLUSIVE MODE');
      const responses = await Promise.all(
        Array.from({ length: 8 }, (_, i) => start(i % 2 ? a : b, a.adminKey)),
      );
      expect(responses.map((r) => r.statusCode)).toEqual(Array(8).fill(202));
      const ids = new Set(responses.map((r) => r.json().id as string));
      expect(ids.size).toBe(1);
      await blocker.query('ROLLBACK');
      const [id] = [...ids];
      expect((await verdict(a, id!)).status).toBe('ok');
      // Once it has finished, a new request starts a new run.
      const next = await start(b, a.adminKey);
      expect(next.json().id).not.toBe(id);
      await verdict(b, next.json().id);
    } finally {
      await blocker.end();
    }
  });

  it('reports a verification that exceeds its time limit as timed_out, not a 500', async () => {
    const slow = await startGateway({
      AUDIT_SIGNING_PUBLIC_KEY: SIGNING.publicKey,
      AUDIT_VERIFY_TIMEOUT_MS: '500',
    });
    const blocker = new Client({ connectionString: a.config.DATABASE_URL });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE audit.audit_events IN ACCESS EXCLUSIVE MODE');
      const res = await start(slow, slow.adminKey);
      expect(res.statusCode).toBe(202);
      const run = await verdict(slow, res.json().id);
      expect(run).toMatchObject({ status: 'timed_out', result: null });
      expect(run.message).toMatch(/timed out.*500 ms/);
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
      await slow.close();
    }
  });

  it('reports a run whose gateway stopped mid-way as failed (abandoned), and starts a new one', async () => {
    const id = '00000000-0000-4000-8000-0000000000ab';
    await a.app.get(AuditVerificationRepository).save({
      id,
      status: 'running',
      range: { from: null, to: null },
      heads: [],
      witness: null,
      requestedBy: 'kid_test',
      startedAt: new Date(Date.now() - 3_600_000).toISOString(),
      finishedAt: null,
      result: null,
      message: null,
    });
    const res = await a.app.inject({
      method: 'GET',
      url: `/v1/audit/verifications/${id}`,
      headers: { authorization: `Bearer ${a.adminKey}` },
    });
    expect(res.json()).toMatchObject({ status: 'failed', message: expect.stringMatching(/^abandoned/) });
    const next = await start(a, a.adminKey);
    expect(next.json().id).not.toBe(id);
    expect((await verdict(a, next.json().id)).status).toBe('ok');
  });

  it('answers bad input with a clear 4xx', async () => {
    for (const payload of [{ from: 'x' }, { from: '5', to: '2' }, { heads: ['12:nothex'] }, { bogus: 1 }]) {
      const res = await start(a, a.adminKey, payload);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    for (const id of ['not-a-uuid', '00000000-0000-4000-8000-000000000000']) {
      const res = await a.app.inject({
        method: 'GET',
        url: `/v1/audit/verifications/${id}`,
        headers: { authorization: `Bearer ${a.adminKey}` },
      });
      expect(res.statusCode).toBe(404);
    }
  });
});
