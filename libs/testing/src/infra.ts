import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { DATABASE_OWNER_ROLE, ensureDatabaseRoles, roleDatabaseUrl } from '@desk/platform';

/**
 * Tests run on this machine's PostgreSQL (trust auth) and Redis, on 127.0.0.1. TEST_PG_ADMIN_URL is the
 * superuser: it creates and drops databases and the roles; the services connect as their own roles and
 * the migrations as the owner role (docs/adr/0009). A database URL handed to a test is the superuser's,
 * for setting up scenarios across schemas; a service given it derives its own role's connection.
 */
export const TEST_PG_ADMIN_URL =
  process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function pgUp(): Promise<boolean> {
  const c = new Client({ connectionString: TEST_PG_ADMIN_URL, connectionTimeoutMillis: 1500 });
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function redisUp(): Promise<boolean> {
  const r = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${what} did not come up within ${timeoutMs} ms`);
}

/**
 * How the desk runs a Redis of its own (the local set-up, the tests, a test's private Redis): keys are
 * never evicted (`noeviction`: under memory pressure a write fails loudly instead of a queued job
 * vanishing) and every write is logged to an append-only file in `dir`, so a restart keeps the queues.
 */
export function redisServerArgs(port: number, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return [
    '--bind',
    '127.0.0.1',
    '--port',
    String(port),
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'yes',
    '--appendfsync',
    'everysec',
    '--maxmemory-policy',
    'noeviction',
  ];
}

/**
 * A Redis that was already running (shared with other programs, so never restarted or rewritten): if it
 * may evict keys, it is told not to (`CONFIG SET maxmemory-policy noeviction`, harmless to other users:
 * they get an error at the memory limit instead of losing keys); its persistence is left as it is, with a
 * warning when it has no append-only file. Without the right to CONFIG, a warning says what to set.
 */
export async function ensureQueueSafeRedis(
  url: string,
  log: (line: string) => void = () => undefined,
): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await r.connect();
    const [, policy] = (await r.config('GET', 'maxmemory-policy')) as [string, string];
    if (policy !== 'noeviction') {
      await r.config('SET', 'maxmemory-policy', 'noeviction');
      log(`Redis at ${new URL(url).host} had maxmemory-policy ${policy}; set to noeviction (queues need it)`);
    }
    const [, aof] = (await r.config('GET', 'appendonly')) as [string, string];
    if (aof !== 'yes')
      log(`Redis at ${new URL(url).host} runs without appendonly; queued jobs do not survive its restart`);
  } catch (error) {
    log(
      `could not check Redis's configuration (${(error as Error).message}); it needs maxmemory-policy noeviction`,
    );
  } finally {
    r.disconnect();
  }
}

/**
 * Reaches PostgreSQL and Redis, starting the local ones if they are down (Redis as `redisServerArgs`, its
 * append-only file in `redisDataDir`), and makes sure the Redis will not evict queued jobs.
 */
export async function ensureInfra(
  log: (line: string) => void = () => undefined,
  options: { redisDataDir?: string } = {},
): Promise<void> {
  if (!(await pgUp())) {
    const versions = readdirSync('/etc/postgresql');
    for (const v of versions) {
      log(`starting PostgreSQL ${v}`);
      try {
        execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', v, 'main', 'start'], { stdio: 'ignore' });
      } catch {
        /* already starting, or another version */
      }
    }
    await waitUntil(pgUp, 'PostgreSQL');
  }
  if (!(await redisUp())) {
    log('starting Redis');
    const port = Number(new URL(TEST_REDIS_URL).port || 6379);
    const dir = options.redisDataDir ?? join(tmpdir(), `desk-redis-${port}`);
    const child = spawn('redis-server', ['--daemonize', 'yes', ...redisServerArgs(port, dir)], {
      stdio: 'ignore',
      detached: true,
    });
    child.unref();
    await waitUntil(redisUp, 'Redis');
  }
  await ensureQueueSafeRedis(TEST_REDIS_URL, log);
}

/**
 * A fresh, uniquely named database (a copy of `template` if given); its URL, as the superuser. The
 * desk's roles exist afterwards (created if missing, cluster-wide and race-safe) and the owner role may
 * create schemas in it.
 */
export async function createDatabase(
  label = 'test',
  template?: string,
): Promise<{ name: string; url: string }> {
  const name = `desk_${label}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const c = new Client({ connectionString: TEST_PG_ADMIN_URL });
  await c.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await c.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ''}`);
        break;
      } catch (error) {
        // 55006: the template still has a session (a migrate step's backend that is just going away).
        if ((error as { code?: string }).code !== '55006' || attempt >= 50) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    await c.end();
  }
  const url = new URL(TEST_PG_ADMIN_URL);
  url.pathname = `/${name}`;
  await ensureDatabaseRoles(url.toString());
  return { name, url: url.toString() };
}

/**
 * A fresh database with every service's schema: a copy of the run's migrated template when the global
 * setup made one (fast, no migrations), else created and migrated here.
 */
export async function createMigratedDatabase(label = 'test'): Promise<{ name: string; url: string }> {
  const template = process.env.DESK_TEST_TEMPLATE_DATABASE;
  if (!template) {
    const db = await createDatabase(label);
    migrateAll(db.url);
    return db;
  }
  return createDatabase(label, template);
}

export async function dropDatabase(name: string): Promise<void> {
  const c = new Client({ connectionString: TEST_PG_ADMIN_URL });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await c.end();
  }
}

/** Deletes every Redis key under a prefix (also `{prefix…}` keys, as the throttler's storage names them). */
export async function clearRedisPrefix(prefix: string): Promise<void> {
  const r = new Redis(TEST_REDIS_URL);
  try {
    for (const pattern of [`${prefix}*`, `{${prefix}*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await r.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    r.disconnect();
  }
}

export function uniquePrefix(label = 't'): string {
  return `${label}-${randomBytes(4).toString('hex')}`;
}

export const APPS = ['gateway', 'agent-analysis', 'risk', 'execution', 'audit'] as const;
export type AppName = (typeof APPS)[number];

/** Repository root (this file is libs/testing/{src,dist}/infra.*). */
export const REPO_ROOT = join(__dirname, '..', '..', '..');

/** Runs every service's built migrate step against a database (made by createDatabase), as the owner role. */
export function migrateAll(databaseUrl: string): void {
  for (const app of APPS) {
    execFileSync(process.execPath, [join(REPO_ROOT, 'apps', app, 'dist', 'migrate.js')], {
      env: { ...process.env, DATABASE_URL: roleDatabaseUrl(databaseUrl, DATABASE_OWNER_ROLE) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
}
