// Order path, closed loop (a first measure until issue 17's open-loop benchmark): the five services as
// processes on their own database and Redis prefix; BENCH_ORDERS market orders submitted through the
// gateway, BENCH_CONCURRENCY at a time, each followed (polling GET /v1/orders/:id) until FILLED. Prints
// throughput and submit-to-FILLED latency percentiles. Throttles and order-rate limits opened wide, agents
// not trading. Run: npm run build && node bench/order-path.bench.mjs
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
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

// The testing library's helpers expect the run's database and prefix that `npm test` sets up; a benchmark
// makes its own (BENCH_DATABASE_URL names the server, the trust-auth default here).
process.env.DESK_TEST_DATABASE_URL ??=
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
process.env.DESK_TEST_REDIS_PREFIX ??= 'bench';
const ORDERS = Number(process.env.BENCH_ORDERS ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const env = testEnv();
const prefix = uniquePrefix('bench');
const db = await createDatabase('bench');
migrateAll(db.url);
const platform = await startPlatform({
  databaseUrl: db.url,
  redisUrl: env.redisUrl,
  redisPrefix: prefix,
  env: {
    ...OPENED_WIDE,
    AGENT_CONVICTION_THRESHOLD: '1',
    EXECUTION_TICK_MS: '200',
  },
});
try {
  const { key } = await issueOperatorKey(platform.baseUrl, platform.adminKey, 'Bench Trader', ['trader']);
  const call = async (method, path, body, headers = {}) => {
    const res = await fetch(`${platform.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: await res.json() };
  };
  // Wait for a market price (the feed publishes on the agents' schedule).
  for (let i = 0; i < 200; i++) {
    const r = await call(
      'POST',
      '/v1/orders',
      { symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: '0.001' },
      { 'idempotency-key': randomUUID() },
    );
    const id = r.json.id;
    let status = '';
    for (let j = 0; j < 100 && !['FILLED', 'REJECTED', 'CANCELLED'].includes(status); j++) {
      await new Promise((r2) => setTimeout(r2, 50));
      status = (await call('GET', `/v1/orders/${id}`)).json.status;
    }
    if (status === 'FILLED') break;
    await new Promise((r2) => setTimeout(r2, 500));
  }
  const latencies = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < ORDERS) {
      next += 1;
      const t0 = performance.now();
      const side = next % 2 ? 'buy' : 'sell';
      const r = await call(
        'POST',
        '/v1/orders',
        { symbol: 'BTC/USDT', side, type: 'market', quantity: '0.001' },
        { 'idempotency-key': randomUUID() },
      );
      if (r.status !== 202) throw new Error(`submit answered ${r.status}: ${JSON.stringify(r.json)}`);
      for (;;) {
        const s = (await call('GET', `/v1/orders/${r.json.id}`)).json.status;
        if (s === 'FILLED') break;
        if (s === 'REJECTED' || s === 'CANCELLED') throw new Error(`order ${r.json.id} ended ${s}`);
        await new Promise((r2) => setTimeout(r2, 5));
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(1);
  console.log(
    JSON.stringify({
      date: new Date().toISOString(),
      machine: `${cpus().length} cores, ${cpus()[0]?.model ?? ''}`,
      orders: latencies.length,
      concurrency: CONCURRENCY,
      ordersPerSecond: Number((latencies.length / seconds).toFixed(1)),
      latencyMs: {
        p50: pct(50),
        p90: pct(90),
        p99: pct(99),
        max: latencies[latencies.length - 1].toFixed(1),
      },
    }),
  );
} finally {
  await platform.stop();
  await dropDatabase(db.name);
  await clearRedisPrefix(prefix);
}
