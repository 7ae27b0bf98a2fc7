// Reaches the local PostgreSQL and Redis (starting them on this machine if they are down) and creates the
// platform's database if it does not exist. Loaded after install: it uses the workspace's pg and ioredis.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT, fail, log } from './workspace.mjs';

const require = createRequire(join(ROOT, 'libs', 'testing', 'package.json'));

export async function ensureLocalInfra(env) {
  const { ensureInfra } = require('@desk/testing');
  const { Client } = require('pg');
  const url = new URL(env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/trading');
  const isLocal = ['127.0.0.1', 'localhost', '::1'].includes(url.hostname);
  if (isLocal) await ensureInfra(log);
  const database = decodeURIComponent(url.pathname.slice(1));
  if (!/^[A-Za-z0-9_]{1,63}$/.test(database)) fail(`DATABASE_URL names an unusable database "${database}"`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) {
      log(`creating database ${database}`);
      await client.query(`CREATE DATABASE "${database}"`);
    }
  } catch (error) {
    fail(`cannot reach PostgreSQL at ${url.host}: ${error.message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
