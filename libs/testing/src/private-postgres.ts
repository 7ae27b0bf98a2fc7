import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from './faults';
import { waitFor } from './wait-for';

/**
 * A PostgreSQL of the test's own that checks passwords (scram-sha-256), on a free port: the shared one
 * trusts 127.0.0.1, so a test of password rotation needs this one. PostgreSQL refuses to run as root, so
 * as root it runs as the `postgres` user. Never the shared server: a test stops only what it started.
 */
export interface PrivatePostgres {
  /** A connection URL for `user` with `password`. */
  url(user: string, password: string): string;
  /** The superuser's URL (user postgres). */
  adminUrl: string;
  destroy(): Promise<void>;
}

const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'desk-private-pg-'));
  const data = join(dir, 'data');
  const adminPassword = `admin-${Math.random().toString(36).slice(2)}`;
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) =>
    (asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]) as [string, string[]];
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
    writeFileSync(join(dir, 'pw'), adminPassword);
    chownSync(join(dir, 'pw'), uid, gid);
  } else {
    writeFileSync(join(dir, 'pw'), adminPassword);
  }
  execFileSync(
    ...run(join(BIN, 'initdb'), [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=scram-sha-256',
      `--pwfile=${join(dir, 'pw')}`,
    ]),
    { stdio: 'ignore' },
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    ...run(join(BIN, 'postgres'), [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
    ]),
    { stdio: 'ignore' },
  );
  const url = (user: string, password: string) =>
    `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  const adminUrl = url('postgres', adminPassword);
  await waitFor(
    async () => {
      const c = new Client({ connectionString: adminUrl });
      try {
        await c.connect();
        return true;
      } finally {
        await c.end().catch(() => undefined);
      }
    },
    { timeoutMs: 30_000, what: 'the private PostgreSQL to accept connections' },
  );
  return {
    url,
    adminUrl,
    async destroy() {
      try {
        execFileSync(...run(join(BIN, 'pg_ctl'), ['-D', data, 'stop', '-m', 'immediate']), {
          stdio: 'ignore',
        });
      } catch {
        child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
