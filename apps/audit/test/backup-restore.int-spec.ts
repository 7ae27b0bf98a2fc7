import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { REPO_ROOT, dropDatabase, waitFor } from '@desk/testing';
import { CheckpointService } from '../src/modules/audit-log/checkpoint.service';
import { AuditHarness, SIGNING_KEY, events } from './audit-harness';

const CLI = join(__dirname, '..', 'dist', 'cli.js');

function run(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { env: { PATH: process.env.PATH ?? '', ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

describe('scripts/pg-backup.sh: back up, destroy, restore, and the audit chain still verifies', () => {
  let h: AuditHarness;
  const dir = mkdtempSync(join(tmpdir(), 'desk-backup-'));
  const file = join(dir, 'desk.dump');
  const admin = () => {
    const url = new URL(h.db.url);
    url.pathname = '/postgres';
    return new Client({ connectionString: url.toString() });
  };
  const verify = () =>
    run(process.execPath, [CLI, 'verify'], {
      DATABASE_URL: h.db.url,
      AUDIT_SIGNING_PUBLIC_KEY: SIGNING_KEY.publicKey,
    });

  beforeAll(async () => {
    h = await AuditHarness.create();
    const service = await h.start();
    const sent = events(20);
    await h.send(sent);
    await waitFor(async () => ((await h.stored(sent.map((e) => e.eventId))) === 20 ? true : undefined));
    expect(await service.get(CheckpointService).checkpoint()).toMatchObject({ seq: '20' });
    await service.close();
  });

  afterAll(async () => {
    // Its own client was ended before the database was dropped: close() may fail on it; drop anyway.
    await h.close().catch(() => dropDatabase(h.db.name));
    rmSync(dir, { recursive: true, force: true });
  });

  it('restores a destroyed database whose chain verifies against the signing key, head and checkpoint', async () => {
    const before = await verify();
    expect(before.code).toBe(0);
    const head = /head seq 20 hash ([0-9a-f]{64})/.exec(before.stdout)?.[1];
    expect(head).toBeDefined();

    const backup = await run('sh', [join(REPO_ROOT, 'scripts', 'pg-backup.sh'), 'backup', file], {
      DATABASE_URL: h.db.url,
    });
    expect(backup).toMatchObject({ code: 0 });
    expect(statSync(file).mode & 0o777).toBe(0o600);

    // Destroyed: the database is gone, then an empty one is created in its place.
    await h.pg.end();
    const pg = admin();
    await pg.connect();
    try {
      await pg.query(`DROP DATABASE "${h.db.name}" WITH (FORCE)`);
      await pg.query(`CREATE DATABASE "${h.db.name}"`);
    } finally {
      await pg.end();
    }
    expect((await verify()).code).not.toBe(0);

    const restore = await run('sh', [join(REPO_ROOT, 'scripts', 'pg-backup.sh'), 'restore', file], {
      DATABASE_URL: h.db.url,
    });
    expect(restore).toMatchObject({ code: 0 });

    const after = await verify();
    expect(after).toMatchObject({ code: 0, stderr: '' });
    expect(after.stdout).toMatch(
      /^ok: 20 records verified, head seq 20 hash [0-9a-f]{64}; latest checkpoint seq 20/,
    );
    expect(after.stdout).toContain(head);
    // The held head still matches: nothing was lost or re-chained.
    expect(
      (
        await run(process.execPath, [CLI, 'verify', '--head', `20:${head}`], {
          DATABASE_URL: h.db.url,
          AUDIT_SIGNING_PUBLIC_KEY: SIGNING_KEY.publicKey,
        })
      ).code,
    ).toBe(0);
  });
});
