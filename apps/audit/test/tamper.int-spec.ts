import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestingModule } from '@nestjs/testing';
import { Client } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  RECORD_COLUMNS_SQL,
  generateSigningKey,
  hashRecord,
  parsePrivateKey,
  signCheckpoint,
  type ChainedRecord,
} from '@desk/audit-chain';
import { waitFor } from '@desk/testing';
import { CheckpointService } from '../src/modules/audit-log/checkpoint.service';
import { AuditHarness, SIGNING_KEY, events } from './audit-harness';

const TABLES = ['audit_events', 'chain_head', 'checkpoints'];
const CLI = join(__dirname, '..', 'dist', 'cli.js');

function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

describe('tampering with the audit log is detected at the exact sequence number', () => {
  let h: AuditHarness;
  let service: TestingModule;
  let rows: ChainedRecord[];

  /** As the superuser, with the append-only triggers switched off: what an attacker with DB access does. */
  async function tamper(...statements: (string | [string, unknown[]])[]): Promise<void> {
    await h.pg.query('BEGIN');
    try {
      for (const table of TABLES) await h.pg.query(`ALTER TABLE audit.${table} DISABLE TRIGGER USER`);
      for (const s of statements) await (typeof s === 'string' ? h.pg.query(s) : h.pg.query(s[0], s[1]));
      for (const table of TABLES) await h.pg.query(`ALTER TABLE audit.${table} ENABLE TRIGGER USER`);
      await h.pg.query('COMMIT');
    } catch (error) {
      await h.pg.query('ROLLBACK');
      throw error;
    }
  }

  beforeAll(async () => {
    h = await AuditHarness.create();
    service = await h.start();
    const sent = events(20);
    await h.send(sent);
    await waitFor(async () => ((await h.stored(sent.map((e) => e.eventId))) === 20 ? true : undefined));
    expect(await service.get(CheckpointService).checkpoint()).toMatchObject({ seq: '20' });
    // Nothing else writes from here on: the service is stopped, as for an offline verification.
    await service.close();
    await h.pg.query(`CREATE TABLE public.events_backup AS SELECT * FROM audit.audit_events`);
    await h.pg.query(`CREATE TABLE public.head_backup AS SELECT * FROM audit.chain_head`);
    await h.pg.query(`CREATE TABLE public.checkpoints_backup AS SELECT * FROM audit.checkpoints`);
    rows = (await h.pg.query(`SELECT ${RECORD_COLUMNS_SQL} FROM audit.audit_events e ORDER BY e.seq`)).rows;
  });

  afterEach(async () => {
    // Put the original log back: every test starts from the same intact chain of 20.
    await tamper(
      'DELETE FROM audit.audit_events',
      'INSERT INTO audit.audit_events SELECT * FROM public.events_backup',
      'UPDATE audit.chain_head h SET seq = b.seq, hash = b.hash FROM public.head_backup b',
      'DELETE FROM audit.checkpoints',
      'INSERT INTO audit.checkpoints SELECT * FROM public.checkpoints_backup',
    );
  });

  afterAll(async () => {
    await h.close();
  });

  it('verifies the intact chain up to its head and its signed checkpoint', async () => {
    const result = await h.verify();
    expect(result).toMatchObject({
      ok: true,
      head: { seq: '20', hash: rows[19]!.hash },
      checked: 20,
      keysTrusted: true,
      latestCheckpoint: { seq: '20', hash: rows[19]!.hash, keyId: SIGNING_KEY.keyId },
    });
  });

  it('names a record whose payload was modified', async () => {
    await tamper(`UPDATE audit.audit_events SET payload = '{"notional":"1.5"}' WHERE seq = 7`);
    expect(await h.verify()).toMatchObject({ ok: false, firstBadSeq: '7', kind: 'hash' });
  });

  it('names a record whose stored hash was modified', async () => {
    await tamper(`UPDATE audit.audit_events SET hash = repeat('a', 64) WHERE seq = 9`);
    expect(await h.verify()).toMatchObject({ ok: false, firstBadSeq: '9', kind: 'hash' });
  });

  it('names a sub-millisecond change of a time', async () => {
    await tamper(
      `UPDATE audit.audit_events SET occurred_at = occurred_at + interval '1 microsecond' WHERE seq = 3`,
    );
    expect(await h.verify()).toMatchObject({ ok: false, firstBadSeq: '3', kind: 'hash' });
  });

  it('names a deleted record', async () => {
    await tamper('DELETE FROM audit.audit_events WHERE seq = 12');
    expect(await h.verify()).toMatchObject({ ok: false, firstBadSeq: '12', kind: 'missing' });
  });

  it('names an inserted record, even one hashed correctly onto the end', async () => {
    const forged = {
      ...rows[19]!,
      seq: '21',
      eventId: '00000000-0000-4000-8000-000000000021',
      subjectId: 'forged',
    };
    forged.prevHash = rows[19]!.hash;
    forged.hash = hashRecord(forged.prevHash, forged);
    await tamper([
      `INSERT INTO audit.audit_events (seq, event_id, occurred_at, recorded_at, actor_type, actor_id, actor_key_id,
         action, subject_type, subject_id, payload, correlation_id, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [
        forged.seq,
        forged.eventId,
        forged.occurredAt,
        forged.recordedAt,
        forged.actorType,
        forged.actorId,
        forged.actorKeyId,
        forged.action,
        forged.subjectType,
        forged.subjectId,
        forged.payload,
        forged.correlationId,
        forged.prevHash,
        forged.hash,
      ],
    ]);
    expect(await h.verify()).toMatchObject({ ok: false, firstBadSeq: '21', kind: 'unexpected' });
  });

  it('names a record inserted in the middle', async () => {
    await tamper(
      'UPDATE audit.audit_events SET seq = seq + 1000 WHERE seq >= 15',
      'UPDATE audit.audit_events SET seq = seq - 999 WHERE seq >= 1000',
      `INSERT INTO audit.audit_events
         SELECT 15, '00000000-0000-4000-8000-000000000015', occurred_at, recorded_at, actor_type, actor_id,
                actor_key_id, action, subject_type, 'forged', payload, correlation_id, hash, repeat('b', 64)
           FROM audit.audit_events WHERE seq = 14`,
    );
    expect(await h.verify()).toMatchObject({ ok: false, firstBadSeq: '15', kind: 'hash' });
  });

  it('names the first of two records whose contents were swapped', async () => {
    const cols = `event_id, occurred_at, recorded_at, actor_type, actor_id, actor_key_id, action, subject_type,
                  subject_id, payload, correlation_id, prev_hash, hash`;
    await tamper(
      `UPDATE audit.audit_events SET event_id = gen_random_uuid() WHERE seq = 5`, // event ids are unique
      `UPDATE audit.audit_events a SET (${cols}) = (SELECT ${cols} FROM public.events_backup b WHERE b.seq = 5) WHERE a.seq = 11`,
      `UPDATE audit.audit_events a SET (${cols}) = (SELECT ${cols} FROM public.events_backup b WHERE b.seq = 11) WHERE a.seq = 5`,
    );
    expect(await h.verify()).toMatchObject({ ok: false, firstBadSeq: '5' });
  });

  it('detects a truncated tail against the last checkpoint, even with the chain head moved back', async () => {
    await tamper('DELETE FROM audit.audit_events WHERE seq > 17', [
      `UPDATE audit.chain_head SET seq = 17, hash = $1`,
      [rows[16]!.hash],
    ]);
    const result = await h.verify();
    expect(result).toMatchObject({ ok: false, firstBadSeq: '18', kind: 'truncated' });
    expect(!result.ok && result.reason).toMatch(/checkpoint signed by key .* names record 20/);
  });

  it('detects a head moved back behind the latest signed checkpoint, records left in place', async () => {
    await tamper([`UPDATE audit.chain_head SET seq = 17, hash = $1`, [rows[16]!.hash]]);
    const result = await h.verify();
    expect(result).toMatchObject({ ok: false, firstBadSeq: '18', kind: 'truncated' });
    expect(!result.ok && result.reason).toMatch(/chain head was moved back to 17, .* names record 20/);
  });

  it('detects a tail cut with its checkpoints and the head rewound, against an externally held head', async () => {
    const held = { seq: '20', hash: rows[19]!.hash };
    await tamper(
      'DELETE FROM audit.audit_events WHERE seq > 17',
      'DELETE FROM audit.checkpoints WHERE seq > 17',
      [`UPDATE audit.chain_head SET seq = 17, hash = $1`, [rows[16]!.hash]],
    );
    // The database alone now tells a consistent story: only a head kept elsewhere can contradict it.
    expect(await h.verify()).toMatchObject({ ok: true, head: { seq: '17' } });
    const result = await h.verify({ anchors: [held] });
    expect(result).toMatchObject({ ok: false, firstBadSeq: '18', kind: 'truncated' });
    expect(!result.ok && result.reason).toMatch(/externally held head 20:/);
  });

  it('detects a tail rewritten consistently (hashes and head recomputed) against an externally held head', async () => {
    const held = { seq: '20', hash: rows[19]!.hash };
    let prev = rows[17]!.hash;
    const rewrites: [string, unknown[]][] = [];
    for (const r of rows.slice(18)) {
      const forged = { ...r, subjectId: 'rewritten', prevHash: prev };
      forged.hash = hashRecord(prev, forged);
      rewrites.push([
        `UPDATE audit.audit_events SET subject_id = 'rewritten', prev_hash = $2, hash = $3 WHERE seq = $1`,
        [r.seq, forged.prevHash, forged.hash],
      ]);
      prev = forged.hash;
    }
    await tamper('DELETE FROM audit.checkpoints WHERE seq > 17', ...rewrites, [
      `UPDATE audit.chain_head SET hash = $1`,
      [prev],
    ]);
    expect(await h.verify()).toMatchObject({ ok: true, head: { seq: '20', hash: prev } });
    expect(await h.verify({ anchors: [held] })).toMatchObject({
      ok: false,
      firstBadSeq: '20',
      kind: 'checkpoint',
    });
  });

  it('detects a log emptied by TRUNCATE', async () => {
    await tamper('TRUNCATE audit.audit_events');
    expect(await h.verify()).toMatchObject({ ok: false, firstBadSeq: '1', kind: 'truncated' });
  });

  it('refuses a checkpoint signed by a key it does not trust', async () => {
    const forger = parsePrivateKey(generateSigningKey().privateKey);
    const forged = signCheckpoint({ seq: '20', hash: rows[19]!.hash }, forger);
    await tamper('DELETE FROM audit.checkpoints', [
      `INSERT INTO audit.checkpoints (seq, hash, signature, key_id, public_key) VALUES ($1, $2, $3, $4, $5)`,
      [forged.seq, forged.hash, forged.signature, forged.keyId, forged.publicKey],
    ]);
    const result = await h.verify();
    expect(result).toMatchObject({ ok: false, firstBadSeq: '20', kind: 'checkpoint' });
    expect(!result.ok && result.reason).toMatch(/not a trusted key/);
  });

  it('verifies a range on its own', async () => {
    await tamper('DELETE FROM audit.audit_events WHERE seq = 12');
    expect(await h.verify({ from: '3', to: '10' })).toMatchObject({
      ok: true,
      checked: 8,
      head: { seq: '10' },
    });
    expect(await h.verify({ from: '3', to: '15' })).toMatchObject({ ok: false, firstBadSeq: '12' });
  });

  describe('the CLI (node apps/audit/dist/cli.js), against the database with the service stopped', () => {
    const env = () => ({ DATABASE_URL: h.db.url, AUDIT_SIGNING_PUBLIC_KEY: SIGNING_KEY.publicKey });

    it('prints ok with the head and exits 0', async () => {
      const r = await cli(['audit', 'verify'], env());
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(
        /^ok: 20 records verified, head seq 20 hash [0-9a-f]{64}; latest checkpoint seq 20/,
      );
    });

    it('prints the first bad seq and why, and exits 1', async () => {
      await tamper(`UPDATE audit.audit_events SET actor_id = 'someone-else' WHERE seq = 4`);
      const r = await cli(['verify', '--from', '2', '--to', '9'], env());
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^TAMPERED \(range 2\.\.9\): first bad seq 4 \(hash\)/);
    });

    it('exports the signed checkpoints as JSON lines, and verifies the chain against them', async () => {
      const exported = await cli(['checkpoints'], env());
      expect(exported).toMatchObject({ code: 0, stderr: '' });
      const lines = exported.stdout.trim().split('\n');
      expect(JSON.parse(lines[lines.length - 1]!)).toMatchObject({
        seq: '20',
        hash: rows[19]!.hash,
        keyId: SIGNING_KEY.keyId,
        signature: expect.any(String),
      });
      const file = join(mkdtempSync(join(tmpdir(), 'desk-cp-')), 'checkpoints.jsonl');
      writeFileSync(file, exported.stdout);
      expect((await cli(['verify', '--checkpoints', file], env())).code).toBe(0);

      // The attacker cuts the tail with its checkpoints and moves the head back: the exported file says no.
      await tamper(
        'DELETE FROM audit.audit_events WHERE seq > 15',
        'DELETE FROM audit.checkpoints WHERE seq > 15',
        [`UPDATE audit.chain_head SET seq = 15, hash = $1`, [rows[14]!.hash]],
      );
      expect((await cli(['verify'], env())).code).toBe(0);
      const byFile = await cli(['verify', '--checkpoints', file], env());
      expect(byFile.code).toBe(1);
      expect(byFile.stdout).toMatch(/^TAMPERED: first bad seq 16 \(truncated\)/);
      const byHead = await cli(['verify', '--head', `20:${rows[19]!.hash}`], env());
      expect(byHead.code).toBe(1);
      expect(byHead.stdout).toMatch(/^TAMPERED: first bad seq 16 \(truncated\): .*externally held head 20:/);
    });

    it('refuses a malformed external head or a forged checkpoint file (exit 2)', async () => {
      expect((await cli(['verify', '--head', '20:nothex'], env())).code).toBe(2);
      const forger = parsePrivateKey(generateSigningKey().privateKey);
      const forged = signCheckpoint({ seq: '20', hash: rows[19]!.hash }, forger);
      const file = join(mkdtempSync(join(tmpdir(), 'desk-cp-')), 'forged.jsonl');
      writeFileSync(file, `${JSON.stringify(forged)}\n`);
      const r = await cli(['verify', '--checkpoints', file], env());
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/line 1: .*not a trusted key/);
    });

    it('exits 2 on a usage or configuration error', async () => {
      expect((await cli(['verify', '--from', 'x'], env())).code).toBe(2);
      expect((await cli(['verify', '--bogus'], env())).code).toBe(2);
      expect((await cli(['frobnicate'], env())).code).toBe(2);
      const badKey = await cli(['verify'], { ...env(), AUDIT_SIGNING_PUBLIC_KEY: 'nope' });
      expect(badKey).toMatchObject({ code: 2 });
      expect(badKey.stderr).toMatch(/AUDIT_SIGNING_PUBLIC_KEY: is not a public key/);
    });

    it('generates a signing key line the service accepts', async () => {
      const r = await cli(['keygen'], {});
      expect(r.code).toBe(0);
      const [line, comment] = r.stdout.trim().split('\n');
      expect(line).toMatch(/^AUDIT_SIGNING_KEY=[A-Za-z0-9+/=]+$/);
      expect(comment).toMatch(/^# public key [0-9a-f]{16}, for verifiers: AUDIT_SIGNING_PUBLIC_KEY=/);
      expect(() => h.config({ AUDIT_SIGNING_KEY: line!.slice('AUDIT_SIGNING_KEY='.length) })).not.toThrow();
    });
  });
});

describe('the application role can only append and read: two walls', () => {
  let h: AuditHarness;
  let app: Client;

  const error = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: { code?: string; message: string }) => ({ code: e.code, message: e.message }),
    );

  beforeAll(async () => {
    h = await AuditHarness.create();
    const service = await h.start();
    const sent = events(3);
    await h.send(sent);
    await waitFor(async () => ((await h.stored(sent.map((e) => e.eventId))) === 3 ? true : undefined));
    await service.get(CheckpointService).checkpoint();
    await service.close();
    app = new Client({ connectionString: h.config().auditDatabaseUrl });
    await app.connect();
  });

  afterAll(async () => {
    await app.end();
    await h.close();
  });

  it('connects as desk_audit, not as the owner', async () => {
    expect(h.config().auditDatabaseUrl).toMatch(/^postgres:\/\/desk_audit@/);
    const who = await app.query<{ user: string; superuser: boolean }>(
      `select current_user as user, rolsuper as superuser from pg_roles where rolname = current_user`,
    );
    expect(who.rows).toEqual([{ user: 'desk_audit', superuser: false }]);
    expect((await app.query('select count(*)::int as n from audit.audit_events')).rows[0].n).toBe(3);
  });

  it('first wall: UPDATE, DELETE and TRUNCATE are not granted', async () => {
    for (const table of ['audit.audit_events', 'audit.checkpoints']) {
      for (const sql of [
        `UPDATE ${table} SET hash = hash WHERE seq = 1`,
        `DELETE FROM ${table} WHERE seq = 1`,
        `TRUNCATE ${table}`,
      ]) {
        expect({ sql, error: await error(app.query(sql)) }).toEqual({
          sql,
          error: { code: '42501', message: expect.stringMatching(/permission denied/) },
        });
      }
    }
    expect(await error(app.query('ALTER TABLE audit.audit_events DISABLE TRIGGER USER'))).toMatchObject({
      code: '42501',
      message: expect.stringMatching(/must be owner/),
    });
    expect(await error(app.query('DELETE FROM audit.chain_head'))).toMatchObject({ code: '42501' });
  });

  it('second wall: with the grants given anyway, the triggers still refuse', async () => {
    await h.pg.query(`GRANT UPDATE, DELETE, TRUNCATE ON audit.audit_events TO desk_audit`);
    try {
      for (const sql of [
        `UPDATE audit.audit_events SET payload = '{}' WHERE seq = 1`,
        `DELETE FROM audit.audit_events WHERE seq = 1`,
        `TRUNCATE audit.audit_events`,
      ]) {
        expect({ sql, error: await error(app.query(sql)) }).toEqual({
          sql,
          error: { code: '42501', message: expect.stringMatching(/audit\.audit_events is append-only/) },
        });
      }
    } finally {
      await h.pg.query(`REVOKE UPDATE, DELETE, TRUNCATE ON audit.audit_events FROM desk_audit`);
    }
    expect(await error(app.query(`UPDATE audit.chain_head SET seq = 0`))).toMatchObject({
      message: expect.stringMatching(/only moves forward/),
    });
  });

  it('the triggers refuse the owner and superuser too, until disabled', async () => {
    for (const sql of [
      `UPDATE audit.audit_events SET payload = '{}' WHERE seq = 1`,
      `DELETE FROM audit.checkpoints`,
      `TRUNCATE audit.audit_events`,
    ]) {
      expect({ sql, error: await error(h.pg.query(sql)) }).toMatchObject({
        sql,
        error: { message: expect.stringMatching(/append-only/) },
      });
    }
    expect(await h.verify()).toMatchObject({ ok: true, head: { seq: '3' } });
  });
});
