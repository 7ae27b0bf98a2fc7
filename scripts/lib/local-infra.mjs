// Reaches the local PostgreSQL and Redis (starting them on this machine if they are down), creates the
// platform's database if it does not exist, and runs the db-roles step (docs/adr/0009): the owner and
// service roles with their passwords. Loaded after install: it uses the workspace's pg and ioredis.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT, fail, log } from './workspace.mjs';

const require = createRequire(join(ROOT, 'libs', 'testing', 'package.json'));

/** `adminUrl`: a superuser's connection to the platform's database; `env`: the set-up's environment. */
export async function ensureLocalInfra(adminUrl, env) {
  const { DESK_SERVICES, OWNER_PASSWORD_VAR, ensureDatabaseRoles, passwordVar } = require('@desk/platform');
  const { Client } = require('pg');
  const url = new URL(adminUrl);
  const isLocal = ['127.0.0.1', 'localhost', '::1'].includes(url.hostname);
  // A Redis started here keeps its append-only file under .run/redis (noeviction; see docs/runbook.md).
  if (isLocal) {
    const { ensureInfra } = require('@desk/testing');
    await ensureInfra(log, { redisDataDir: join(ROOT, '.run', 'redis') });
  }
  const database = decodeURIComponent(url.pathname.slice(1));
  if (!/^[A-Za-z0-9_]{1,63}$/.test(database)) fail(`DATABASE_URL names an unusable database "${database}"`);
  if (new URL(env.DATABASE_URL ?? adminUrl).pathname !== url.pathname) {
    fail('DATABASE_ADMIN_URL and DATABASE_URL must name the same database');
  }
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
  try {
    await ensureDatabaseRoles(url.toString(), {
      passwords: {
        owner: env[OWNER_PASSWORD_VAR],
        services: Object.fromEntries(DESK_SERVICES.map((s) => [s, env[passwordVar(s)]])),
      },
    });
  } catch (error) {
    // The message names the statement's problem, never a password (those are only in ALTER ROLE's text).
    fail(`could not set up the database roles: ${error.code ?? ''} ${error.message.split('\n')[0]}`);
  }
  log('database roles ready (owner desk_owner; one login role per service)');
}

/**
 * The per-service Redis ACL users (docs/adr/0009), on REDIS_URL's server with REDIS_URL's rights, for the
 * desk's prefix, with the passwords the set-up generated. The server's own default user is left as it is
 * (other programs on this machine may use it); a deployment turns it off (infra/redis/users.acl).
 */
export async function ensureLocalRedisUsers(env) {
  const {
    DESK_SERVICES,
    ensureRedisUsers,
    redisOptions,
    redisPasswordVar,
    redisUrlVar,
  } = require('@desk/platform');
  const { Redis } = require('ioredis');
  // Only when every service connects as the user made here (an operator who set <SERVICE>_REDIS_URL runs
  // their own Redis users, and is left alone).
  const ours = (s) => env[redisPasswordVar(s)] && env[redisUrlVar(s)]?.startsWith(`redis://desk-${s}:`);
  if (!DESK_SERVICES.every(ours)) return;
  const redis = new Redis({ ...redisOptions(env.REDIS_URL ?? 'redis://127.0.0.1:6379'), lazyConnect: true });
  try {
    await redis.connect();
    await ensureRedisUsers(
      redis,
      env.REDIS_PREFIX ?? 'desk',
      Object.fromEntries(DESK_SERVICES.map((s) => [s, env[redisPasswordVar(s)]])),
    );
    // Kept across a restart where the server has an ACL file (docker-compose.yml's Redis); a server without
    // one (a local Redis) keeps them in memory, and npm start makes them again.
    await redis.call('ACL', 'SAVE').catch((error) => {
      if (!/ACL file/i.test(error.message)) throw error;
    });
  } catch (error) {
    fail(`could not set up the Redis users: ${error.message.split('\n')[0]}`);
  } finally {
    redis.disconnect();
  }
  log('Redis users ready (one ACL user per service, within the desk prefix)');
}
