// Order path, open loop (issue 17): the five services as processes on their own database and Redis prefix,
// throttles and order-rate limits opened wide, agents not trading; market orders submitted through the
// gateway at fixed rates (BENCH_RATES per second, BENCH_SECONDS each), never waiting for an answer before
// the next is due. Latency is accepted-to-filled as the desk records it (gateway.orders.submitted_at to
// the FILLED event), read from the database after the run, so measuring costs the path nothing. In the same
// run, a bare BullMQ chain of the same three hops between processes (gateway → risk → execution → done) on
// the same Redis, at its own maximum rate, for the ratio. Writes a line to bench/results/order-path-open-loop.md.
// Run: npm run build && node bench/order-path-open-loop.bench.mjs
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  clearRedisPrefix,
  createDatabase,
  dropDatabase,
  issueOperatorKey,
  migrateAll,
  OPENED_WIDE,
  startPlatform,
  testEnv,
  uniquePrefix,
} from '@desk/testing';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(ROOT, 'libs', 'platform', 'package.json'));
const { Client } = createRequire(join(ROOT, 'libs', 'testing', 'package.json'))('pg');
process.env.DESK_TEST_DATABASE_URL ??=
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
process.env.DESK_TEST_REDIS_PREFIX ??= 'bench';
const RATES = (process.env.BENCH_RATES ?? '25,50,100').split(',').filter(Boolean).map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CHAIN_JOBS = Number(process.env.BENCH_CHAIN_JOBS ?? 5000);
const HTTP_SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 5);
const HTTP_CONNECTIONS = Number(process.env.BENCH_HTTP_CONNECTIONS ?? 32);
const HTTP_ROUNDS = Number(process.env.BENCH_HTTP_ROUNDS ?? 3);
const autocannon = createRequire(join(ROOT, 'package.json'))('autocannon');

const pct = (sorted, p) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds (user + system) a process has used, from /proc; 0 once it is gone. */
function cpuSecondsOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}
const pidsNamed = (name) => {
  try {
    return execFileSync('pgrep', ['-x', name], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
};
/** CPU seconds so far of each desk service, of PostgreSQL (every backend) and of Redis. */
function cpuSnapshot(platform) {
  const out = {};
  for (const [app, pid] of Object.entries(platform.pids())) out[app] = pid ? cpuSecondsOf(pid) : 0;
  out.postgres = pidsNamed('postgres').reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
  out.redis = pidsNamed('redis-server').reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
  return out;
}
/**
 * Waits (up to 60 s) until the desk has worked off what the run before left behind (the audit chain, the
 * projections): each of its processes, PostgreSQL and Redis under 5 % of a core over half a second. An idle
 * desk spends 1–2 %.
 */
async function settle(platform) {
  const deadline = Date.now() + 60_000;
  let before = cpuSnapshot(platform);
  while (Date.now() < deadline) {
    await sleep(500);
    const after = cpuSnapshot(platform);
    const busy = Object.keys(after).some((name) => after[name] - before[name] > 0.025);
    before = after;
    if (!busy) return;
  }
}
async function redisCommands(redisUrl) {
  const { default: Redis } = await import(require.resolve('ioredis'));
  const client = new Redis(redisUrl, { lazyConnect: true });
  await client.connect();
  const info = await client.info('stats');
  await client.quit();
  return Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? NaN);
}
async function pgTransactions(pg) {
  const r = await pg.query(`SELECT sum(xact_commit + xact_rollback)::bigint AS n FROM pg_stat_database`);
  return Number(r.rows[0].n);
}

/** A bare BullMQ chain: three worker processes, each taking a job off its queue and adding it to the next. */
async function bareChain(redisUrl) {
  const prefix = uniquePrefix('benchchain');
  const hops = ['hop1', 'hop2', 'hop3'];
  const workerSource = `
    const { Worker, Queue } = require(${JSON.stringify(require.resolve('bullmq'))});
    const [from, to, prefix, url] = process.argv.slice(1);
    const u = new URL(url);
    const connection = { host: u.hostname, port: Number(u.port || 6379) };
    const next = to === 'done' ? undefined : new Queue(to, { connection, prefix });
    const done = to === 'done' ? new Queue('done', { connection, prefix }) : undefined;
    new Worker(from, async (job) => {
      if (next) await next.add('j', job.data, { removeOnComplete: true });
      else await done.add('j', { ...job.data, doneAt: Date.now() }, { removeOnComplete: false });
    }, { connection, prefix, concurrency: 16, removeOnComplete: { count: 0 } });
  `;
  const procs = hops.map((hop, i) =>
    spawn(process.execPath, ['-e', workerSource, hop, hops[i + 1] ?? 'done', prefix, redisUrl], {
      stdio: 'ignore',
    }),
  );
  const { Queue } = require('bullmq');
  const u = new URL(redisUrl);
  const connection = { host: u.hostname, port: Number(u.port || 6379) };
  const first = new Queue('hop1', { connection, prefix });
  const done = new Queue('done', { connection, prefix });
  await sleep(1500);
  const started = Date.now();
  for (let i = 0; i < CHAIN_JOBS; i += 200) {
    await first.addBulk(
      Array.from({ length: Math.min(200, CHAIN_JOBS - i) }, () => ({
        name: 'j',
        data: { at: Date.now() },
        opts: { removeOnComplete: true },
      })),
    );
  }
  const giveUp = Date.now() + 120_000;
  while ((await done.getJobCountByTypes('waiting')) < CHAIN_JOBS) {
    if (Date.now() > giveUp) throw new Error('the bare chain did not finish in 120 s');
    await sleep(50);
  }
  const seconds = (Date.now() - started) / 1000;
  for (const p of procs) p.kill();
  await first.close();
  await done.close();
  await clearRedisPrefix(prefix);
  return { jobs: CHAIN_JOBS, perSecond: Math.round(CHAIN_JOBS / seconds) };
}

/**
 * Requests per second and latency of one route under HTTP_CONNECTIONS connections kept busy for HTTP_SECONDS
 * (autocannon, in this process). `body`: a function giving each request's body and headers (a fresh
 * idempotency key per order).
 */
async function hammer(url, { method = 'GET', headers = {}, body } = {}) {
  const result = await autocannon({
    url,
    method,
    headers,
    connections: HTTP_CONNECTIONS,
    duration: HTTP_SECONDS,
    ...(body ? { requests: [{ setupRequest: (req) => ({ ...req, ...body() }) }] } : {}),
  });
  const ok = Object.entries(result.statusCodeStats ?? {})
    .filter(([code]) => code.startsWith('2'))
    .reduce((sum, [, v]) => sum + v.count, 0);
  return {
    ok,
    perSecond: Math.round(ok / HTTP_SECONDS),
    non2xx: result.non2xx + result.errors,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

/**
 * The desk and bare Fastify measured in turns (HTTP_ROUNDS rounds, bare first in each, `between` after
 * each), so that both sides of a ratio see the machine as it was then: on a shared VM its speed drifts by
 * half within minutes. Each side: requests per second over all its rounds, the median p50, the worst p99.
 */
async function alternate(bare, desk, between) {
  const runs = { bare: [], desk: [] };
  for (let i = 0; i < HTTP_ROUNDS; i++) {
    runs.bare.push(await bare());
    runs.desk.push(await desk());
    await between();
  }
  const merge = (rs) => ({
    perSecond: Math.round(rs.reduce((sum, r) => sum + r.ok, 0) / (HTTP_SECONDS * rs.length)),
    rounds: rs.map((r) => r.perSecond),
    non2xx: rs.reduce((sum, r) => sum + r.non2xx, 0),
    p50: rs.map((r) => r.p50).sort((a, b) => a - b)[Math.floor(rs.length / 2)],
    p99: Math.max(...rs.map((r) => r.p99)),
  });
  return { bare: merge(runs.bare), desk: merge(runs.desk) };
}

/**
 * Bare Fastify (the gateway's own version) in a process of its own, with the same two routes answering
 * fixed bodies: GET /v1/me, and POST /v1/orders parsing the JSON body and answering 202.
 */
async function startBareFastify() {
  const fastifyPath = createRequire(join(ROOT, 'apps', 'gateway', 'package.json')).resolve('fastify');
  const source = `
    const app = require(${JSON.stringify(fastifyPath)})({ logger: false });
    app.get('/v1/me', async () => ({ operator: { id: 'x', name: 'Bench' }, keyId: 'k', roles: ['trader'] }));
    app.post('/v1/orders', async (req, reply) => reply.code(202).send({ id: require('node:crypto').randomUUID(), status: 'RECEIVED', symbol: req.body.symbol }));
    app.listen({ port: 0, host: '127.0.0.1' }).then((address) => process.stdout.write(address + '\\n'));
  `;
  const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  const base = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(String(d).trim())));
  return { base, stop: () => child.kill() };
}
const ORDER_BODY = JSON.stringify({ symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: '0.001' });

const env = testEnv();
const prefix = uniquePrefix('benchol');
const db = await createDatabase('benchol');
migrateAll(db.url);
// BENCH_CPU_PROF=<dir>: every service writes a V8 CPU profile there when it stops (chrome://inspect, speedscope).
const profileDir = process.env.BENCH_CPU_PROF;
if (profileDir) mkdirSync(profileDir, { recursive: true });
const platform = await startPlatform({
  nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  databaseUrl: db.url,
  redisUrl: env.redisUrl,
  redisPrefix: prefix,
  env: {
    ...OPENED_WIDE,
    EXECUTION_TICK_MS: '200',
  },
});
const pg = new Client({ connectionString: db.url });
await pg.connect();
const rows = [];
const http = {};
try {
  const { key } = await issueOperatorKey(platform.baseUrl, platform.adminKey, 'Bench Trader', ['trader']);
  const submit = (side) =>
    fetch(`${platform.baseUrl}/v1/orders`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'idempotency-key': randomUUID(),
      },
      body: JSON.stringify({ symbol: 'BTC/USDT', side, type: 'market', quantity: '0.001' }),
    }).then(async (r) => ({ status: r.status, id: (await r.json()).id }));
  // Wait for a market price: the first order that fills.
  for (let i = 0; ; i++) {
    const { id } = await submit('buy');
    await sleep(1000);
    const r = await pg.query(`SELECT status FROM gateway.orders WHERE id = $1`, [id]);
    if (r.rows[0]?.status === 'FILLED') break;
    if (i > 120) throw new Error('no order filled: no market price?');
  }
  for (const rate of RATES) {
    const total = rate * SECONDS;
    await settle(platform); // the previous rate's tail settles out of the counters
    const cpuBefore = cpuSnapshot(platform);
    const commandsBefore = await redisCommands(env.redisUrl);
    const txBefore = await pgTransactions(pg);
    const pending = [];
    const windowStart = new Date();
    const t0 = performance.now();
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      pending.push(submit(i % 2 ? 'buy' : 'sell').catch((e) => ({ status: 0, error: String(e) })));
    }
    const answers = await Promise.all(pending);
    const ids = answers.filter((a) => a.status === 202).map((a) => a.id);
    // Every accepted order to its end (or 120 s).
    const deadline = Date.now() + 120_000;
    let final = 0;
    while (Date.now() < deadline) {
      final = (
        await pg.query(
          `SELECT count(*)::int AS n FROM gateway.orders WHERE id = ANY($1::uuid[]) AND status IN ('FILLED', 'REJECTED', 'CANCELLED')`,
          [ids],
        )
      ).rows[0].n;
      if (final === ids.length) break;
      await sleep(500);
    }
    const cpuAfter = cpuSnapshot(platform);
    const commandsAfter = await redisCommands(env.redisUrl);
    await sleep(1000); // PostgreSQL publishes its transaction counts within a second
    const txAfter = await pgTransactions(pg);
    const perOrder = (n) => Number((n / Math.max(1, ids.length)).toFixed(1));
    const cpuMsPerOrder = Object.fromEntries(
      Object.keys(cpuAfter).map((k) => [
        k,
        Math.round(((cpuAfter[k] - cpuBefore[k]) * 1000) / Math.max(1, ids.length)),
      ]),
    );
    const timing = await pg.query(
      `SELECT extract(epoch FROM (e.at - o.submitted_at)) * 1000 AS ms, extract(epoch FROM e.at) AS at
         FROM gateway.orders o JOIN gateway.order_events e ON e.order_id = o.id AND e.status = 'FILLED'
        WHERE o.id = ANY($1::uuid[])`,
      [ids],
    );
    // Where the time goes: each hop's p50, from the times the services recorded (the gateway's acceptance,
    // risk's decision, execution's SUBMITTED, PLACING and FILLED).
    const hops = await pg.query(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM (i.decided_at - o.submitted_at)))
                * 1000 AS risk,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM (s.at - i.decided_at))) * 1000
                AS execution,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM (p.at - s.at))) * 1000 AS placing,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM (f.at - p.at))) * 1000 AS venue
         FROM gateway.orders o
         JOIN risk.intents i ON i.id = o.id
         JOIN execution.order_events s ON s.order_id = o.id AND s.status = 'SUBMITTED'
         JOIN execution.order_events p ON p.order_id = o.id AND p.status = 'PLACING'
         JOIN execution.order_events f ON f.order_id = o.id AND f.status = 'FILLED'
        WHERE o.id = ANY($1::uuid[])`,
      [ids],
    );
    const hopP50 = Object.fromEntries(
      Object.entries(hops.rows[0] ?? {}).map(([hop, v]) => [hop, v === null ? NaN : Math.round(Number(v))]),
    );
    const fills = await pg.query(
      `SELECT count(*)::int AS n, count(DISTINCT order_id)::int AS orders FROM execution.fills WHERE order_id = ANY($1::uuid[])`,
      [ids],
    );
    // The jobs each order took, by the service that wrote them (its outbox) and their name.
    const outboxRows = await pg.query(
      ['gateway', 'risk', 'execution', 'audit', 'agents']
        .map(
          (schema) => `SELECT '${schema}' AS service, job_name, count(*)::int AS n FROM ${schema}.outbox
                        WHERE created_at >= $1 GROUP BY job_name`,
        )
        .join(' UNION ALL '),
      [windowStart],
    );
    const jobsPerOrder = Object.fromEntries(
      outboxRows.rows.map((r) => [`${r.service}:${r.job_name}`, perOrder(r.n)]),
    );
    const ms = timing.rows.map((r) => Number(r.ms)).sort((a, b) => a - b);
    const ats = timing.rows.map((r) => Number(r.at)).sort((a, b) => a - b);
    const span = ats.length > 1 ? ats[ats.length - 1] - ats[0] : 1;
    rows.push({
      rate,
      submitted: total,
      accepted: ids.length,
      filled: ms.length,
      fillsRecorded: fills.rows[0].n,
      filledPerSecond: Number((ms.length / Math.max(span, SECONDS)).toFixed(1)),
      p50: Math.round(pct(ms, 50)),
      p99: Math.round(pct(ms, 99)),
      max: Math.round(ms[ms.length - 1] ?? NaN),
      // p50 ms of each hop: accepted → risk decided → execution SUBMITTED → PLACING → FILLED.
      hopP50,
      // Costs per accepted order over the whole window (everything else is idle): the round trips and CPU
      // each order takes, which is what bounds throughput on a small machine.
      redisCommandsPerOrder: perOrder(commandsAfter - commandsBefore),
      pgTransactionsPerOrder: perOrder(txAfter - txBefore),
      cpuMsPerOrder,
      jobsPerOrder,
    });
    console.log(JSON.stringify(rows[rows.length - 1]));
  }
  // The gateway alone, in turns with bare Fastify: an authenticated, throttled read, then order submission
  // (accepted, durable, 202). Submission goes last: the orders it accepts keep the rest of the desk busy
  // after it, so each round waits for the desk to go quiet again. Both start once the desk has worked off
  // the orders above, so that what is measured is the gateway.
  await settle(platform);
  const bare = await startBareFastify();
  try {
    const reads = await alternate(
      () => hammer(`${bare.base}/v1/me`),
      () => hammer(`${platform.baseUrl}/v1/me`, { headers: { authorization: `Bearer ${key}` } }),
      async () => {},
    );
    const submits = await alternate(
      () =>
        hammer(`${bare.base}/v1/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: () => ({ body: ORDER_BODY }),
        }),
      () =>
        hammer(`${platform.baseUrl}/v1/orders`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: () => ({
            body: ORDER_BODY,
            headers: {
              authorization: `Bearer ${key}`,
              'content-type': 'application/json',
              'idempotency-key': randomUUID(),
            },
          }),
        }),
      () => settle(platform),
    );
    http.desk = { read: reads.desk, submit: submits.desk };
    http.bare = { read: reads.bare, submit: submits.bare };
  } finally {
    bare.stop();
  }
  console.log(JSON.stringify({ gateway: http.desk }));
  console.log(JSON.stringify({ bareFastify: http.bare }));
} finally {
  await pg.end();
  await platform.stop();
  await dropDatabase(db.name);
  await clearRedisPrefix(prefix);
}
const chain = await bareChain(env.redisUrl);
console.log(JSON.stringify({ bareBullmqChain: chain }));
const machine = `${cpus().length} cores, ${cpus()[0]?.model ?? ''}`;
const lines = [
  `\n## ${new Date().toISOString()} — ${machine}\n`,
  '| rate/s | submitted | accepted | filled | fills recorded | filled/s | p50 ms | p99 ms | max ms |',
  '| ------ | --------- | -------- | ------ | -------------- | -------- | ------ | ------ | ------ |',
  ...rows.map(
    (r) =>
      `| ${r.rate} | ${r.submitted} | ${r.accepted} | ${r.filled} | ${r.fillsRecorded} | ${r.filledPerSecond} | ${r.p50} | ${r.p99} | ${r.max} |`,
  ),
  '',
  '| rate/s | Redis commands/order | PostgreSQL transactions/order | CPU ms/order: gateway, risk, execution, audit, agent-analysis, postgres, redis |',
  '| ------ | -------------------- | ----------------------------- | ---------------------------------------------------------------------------- |',
  ...rows.map(
    (r) =>
      `| ${r.rate} | ${r.redisCommandsPerOrder} | ${r.pgTransactionsPerOrder} | ${['gateway', 'risk', 'execution', 'audit', 'agent-analysis', 'postgres', 'redis'].map((k) => r.cpuMsPerOrder[k]).join(', ')} |`,
  ),
  '',
  '| rate/s | p50 ms: accepted → risk decided | → execution SUBMITTED | → PLACING | → FILLED |',
  '| ------ | ------------------------------- | --------------------- | --------- | -------- |',
  ...rows.map(
    (r) =>
      `| ${r.rate} | ${r.hopP50.risk} | ${r.hopP50.execution} | ${r.hopP50.placing} | ${r.hopP50.venue} |`,
  ),
  '',
  `Bare BullMQ chain (three hops between processes, same Redis): ${chain.perSecond} jobs/s over ${chain.jobs} jobs.`,
  '',
  `HTTP, ${HTTP_CONNECTIONS} connections, ${HTTP_ROUNDS} rounds of ${HTTP_SECONDS} s per side, bare Fastify and the desk in turns (autocannon; each round's req/s in brackets):`,
  '',
  '| route | desk req/s (p50 / p99 ms) | bare Fastify req/s (p50 / p99 ms) | desk ÷ bare |',
  '| ----- | ------------------------- | --------------------------------- | ----------- |',
  ...(http.desk
    ? [
        ['GET /v1/me (authenticated, throttled)', http.desk.read, http.bare.read],
        ['POST /v1/orders (authenticated, throttled, durable, 202)', http.desk.submit, http.bare.submit],
      ].map(
        ([route, d, b]) =>
          `| ${route} | ${d.perSecond} (${d.p50} / ${d.p99}) [${d.rounds.join(', ')}]${d.non2xx ? `, ${d.non2xx} not 2xx` : ''} | ${b.perSecond} (${b.p50} / ${b.p99}) [${b.rounds.join(', ')}] | ${((100 * d.perSecond) / b.perSecond).toFixed(1)} % |`,
      )
    : []),
  '',
];
appendFileSync(join(ROOT, 'bench', 'results', 'order-path-open-loop.md'), lines.join('\n'));
