// `node bench/gateway-auth.bench.mjs`: an authenticated, throttled read through the real gateway process.
// Creates a database of its own, migrates it, starts the built gateway (apps/gateway/dist) on a free port,
// bootstraps an admin key with the console, then keeps CONCURRENCY requests in flight on GET /v1/me for
// DURATION_MS and prints requests per second and latency percentiles. Needs `npm run build` first and the
// local PostgreSQL and Redis. Results: bench/results/gateway-auth.md (written by hand with the machine).
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(ROOT, 'libs', 'testing', 'package.json'));
const { Client } = require('pg');
const DURATION_MS = Number(process.env.DURATION_MS ?? 10_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32);
const PATH_UNDER_TEST = process.env.BENCH_PATH ?? '/v1/me';
const ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const db = `desk_bench_${randomUUID().slice(0, 8)}`;
const admin = new Client({ connectionString: ADMIN_URL });
await admin.connect();
await admin.query(`CREATE DATABASE ${db}`);
const url = new URL(ADMIN_URL);
url.pathname = `/${db}`;
const env = {
  PATH: process.env.PATH,
  DATABASE_URL: url.toString(),
  REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  REDIS_PREFIX: db,
  GATEWAY_PORT: String(port),
  LOG_LEVEL: 'warn',
  THROTTLE_LIMIT: '1000000',
  THROTTLE_IP_LIMIT: '1000000',
  NODE_ENV: 'production',
};
let gateway;
try {
  for (const app of ['audit', 'risk', 'execution', 'agent-analysis', 'gateway'])
    execFileSync(process.execPath, [join(ROOT, 'apps', app, 'dist', 'migrate.js')], { env, stdio: 'ignore' });
  const key = JSON.parse(
    execFileSync(process.execPath, [join(ROOT, 'apps', 'gateway', 'dist', 'cli.js'), 'bootstrap'], {
      env,
      encoding: 'utf8',
    }),
  ).key;
  gateway = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir=/tmp/prof', join(ROOT, 'apps', 'gateway', 'dist', 'main.js')], {
    env,
    stdio: 'inherit',
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/health/ready`)).ok) break;
    } catch {
      /* starting */
    }
    if (i > 100) throw new Error('gateway did not become ready');
    await new Promise((r) => setTimeout(r, 200));
  }
  const autocannon = createRequire(join(ROOT, 'package.json'))('autocannon');
  const r = await autocannon({ url: `${base}${PATH_UNDER_TEST}`, headers: { authorization: `Bearer ${key}` }, connections: 32, duration: Number(process.env.SECS ?? 8) });
  console.log(JSON.stringify({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx }));
} finally {
  gateway?.kill('SIGTERM');
  await new Promise((r) => (gateway ? gateway.once('exit', r) : r()));
  await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin.end();
}
