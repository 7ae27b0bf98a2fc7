// Audit append benchmark: `npm run bench` (builds first), or `node bench/audit-append.bench.mjs` on built code.
// On its own database and Redis prefix, it measures:
//   1. chained appends through the audit service's real batched path (AuditLogService.append: group-commit
//      batcher -> one transaction per batch: chain-head lock, idempotency check, hashing, insert), with as
//      many events in flight as the worker holds (AUDIT_BATCH_SIZE);
//   2. a plain batched INSERT of the same rows (same columns, same batch size, no chain) for comparison;
//   3. the whole path from the audit queue (jobs added to BullMQ, consumed by the service's worker);
//   4. verification of everything stored (the same code as `audit verify`).
// Results go to bench/results/audit-append.md. Environment: BENCH_EVENTS (default 20000),
// AUDIT_BATCH_SIZE (default 200), AUDIT_BATCH_WAIT_MS (default 10).
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const AUDIT = join(ROOT, 'apps', 'audit');
const rootRequire = createRequire(join(ROOT, 'package.json'));
const auditRequire = createRequire(join(AUDIT, 'package.json'));

const { Client } = rootRequire('pg');
const { Queue } = rootRequire('bullmq');
const { createDatabase, dropDatabase, ensureInfra, clearRedisPrefix, uniquePrefix, TEST_REDIS_URL } =
  rootRequire('@desk/testing');
const { migrate, redisOptions } = rootRequire('@desk/platform');
const { NestFactory } = auditRequire('@nestjs/core');
const { generateSigningKey, pgQuery, verifyStoredChain, parsePublicKey } = auditRequire('@desk/audit-chain');
const { AUDIT_SCHEMA } = auditRequire('./dist/schema.js');
const { loadAuditConfig } = auditRequire('./dist/config.js');
const { AppModule } = auditRequire('./dist/app.module.js');
const { AuditLogService } = auditRequire('./dist/modules/audit-log/audit-log.service.js');

const N = Number(process.env.BENCH_EVENTS ?? 20_000);
const BATCH = Number(process.env.AUDIT_BATCH_SIZE ?? 200);
const WAIT_MS = Number(process.env.AUDIT_BATCH_WAIT_MS ?? 10);

function event(i) {
  return {
    schemaVersion: 1,
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    actor: { type: 'service', id: 'risk' },
    action: 'order.accepted',
    subject: { type: 'order', id: randomUUID() },
    payload: {
      symbol: 'BTC/USDT',
      side: 'buy',
      quantity: '0.01',
      notional: `${1000 + i}.25`,
      reasonCode: null,
    },
    correlationId: randomUUID(),
  };
}

const seconds = (startNs) => Number(process.hrtime.bigint() - startNs) / 1e9;
const rate = (n, s) => Math.round(n / s);

/** Runs `work` over items with at most `limit` in flight. */
async function pool(items, limit, work) {
  let next = 0;
  const runners = Array.from({ length: limit }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(runners);
}

/** A Markdown table laid out as Prettier would (first column left, the numbers right-aligned). */
function table(header, rows) {
  const cells = [header, ...rows.map((r) => r.map((v, i) => (i === 2 ? v.toFixed(2) : String(v))))];
  const widths = header.map((_, i) => Math.max(3, ...cells.map((r) => r[i].length)));
  const line = (r) =>
    `| ${r.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(cells[0]), rule, ...cells.slice(1).map(line)];
}

async function count(pg, table) {
  return (await pg.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;
}

async function main() {
  await ensureInfra();
  const db = await createDatabase('bench');
  const prefix = uniquePrefix('bench');
  const pg = new Client({ connectionString: db.url });
  const key = generateSigningKey();
  let app;
  let queue;
  try {
    await migrate(db.url, AUDIT_SCHEMA);
    await pg.connect();
    const config = loadAuditConfig({
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      LOG_LEVEL: 'silent',
      AUDIT_SIGNING_KEY: key.privateKey,
      AUDIT_CHECKPOINT_INTERVAL_MS: String(3_600_000),
      AUDIT_BATCH_SIZE: String(BATCH),
      AUDIT_BATCH_WAIT_MS: String(WAIT_MS),
    });
    app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: false });
    const service = app.get(AuditLogService);

    // Warm-up (connections, JIT), not measured.
    await pool(
      Array.from({ length: 1000 }, (_, i) => event(i)),
      BATCH,
      (e) => service.append(e),
    );

    // 1. Chained appends through the service's batched path.
    const chained = Array.from({ length: N }, (_, i) => event(i));
    let t = process.hrtime.bigint();
    await pool(chained, BATCH, (e) => service.append(e));
    const chainedS = seconds(t);

    // 2. Plain batched INSERT of the same rows (fresh ids), same batch size, one transaction per batch.
    // Same columns, indexes and constraints as the log (no triggers); the same rows with fresh ids.
    await pg.query(`CREATE TABLE public.plain_events (LIKE audit.audit_events INCLUDING ALL)`);
    const stored = (
      await pg.query(`SELECT * FROM audit.audit_events WHERE event_id = ANY($1::uuid[]) ORDER BY seq`, [
        chained.map((e) => e.eventId),
      ])
    ).rows;
    const columns = Object.keys(stored[0]);
    const types = columns.map((c) =>
      c === 'seq' ? 'bigint' : c === 'event_id' ? 'uuid' : c.endsWith('_at') ? 'timestamptz' : 'text',
    );
    t = process.hrtime.bigint();
    for (let i = 0; i < stored.length; i += BATCH) {
      const batch = stored.slice(i, i + BATCH);
      await pg.query('BEGIN');
      await pg.query(
        `INSERT INTO public.plain_events (${columns.join(', ')})
         SELECT * FROM unnest(${types.map((type, k) => `$${k + 1}::${type}[]`).join(', ')})`,
        columns.map((c) => batch.map((row) => (c === 'event_id' ? randomUUID() : row[c]))),
      );
      await pg.query('COMMIT');
    }
    const plainS = seconds(t);

    // 3. End to end from the audit queue: jobs added in bulk, consumed by the service's worker.
    queue = new Queue('audit', { connection: redisOptions(TEST_REDIS_URL), prefix });
    const before = await count(pg, 'audit.audit_events');
    const queued = Array.from({ length: N }, (_, i) => event(i));
    t = process.hrtime.bigint();
    for (let i = 0; i < queued.length; i += 1000) {
      await queue.addBulk(
        queued.slice(i, i + 1000).map((e) => ({ name: 'audit.event', data: e, opts: { jobId: e.eventId } })),
      );
    }
    while ((await count(pg, 'audit.audit_events')) < before + N) await new Promise((r) => setTimeout(r, 20));
    const queueS = seconds(t);

    // 4. Verify everything stored, as `audit verify` does.
    const total = await count(pg, 'audit.audit_events');
    t = process.hrtime.bigint();
    const result = await verifyStoredChain(pgQuery(pg), { trustedKeys: [parsePublicKey(key.publicKey)] });
    const verifyS = seconds(t);
    if (!result.ok || result.checked !== total)
      throw new Error(`verification failed: ${JSON.stringify(result)}`);

    const pgVersion = (await pg.query('SHOW server_version')).rows[0].server_version;
    const lines = [
      '# Audit append benchmark',
      '',
      `- date: ${new Date().toISOString()}`,
      `- machine: ${os.availableParallelism()} CPUs (nproc), ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
      `- node ${process.version}, PostgreSQL ${pgVersion} (local, default settings), Redis on loopback`,
      `- events per run: ${N}; batch size ${BATCH}; batch wait ${WAIT_MS} ms; command: \`npm run bench\``,
      '',
      ...table(
        ['what', 'rows', 'seconds', 'rows/s'],
        [
          [
            'chained append, service batch path (lock head, dedupe, hash, insert)',
            N,
            chainedS,
            rate(N, chainedS),
          ],
          ['plain batched INSERT of the same rows (no chain)', N, plainS, rate(N, plainS)],
          ['end to end from the audit queue (BullMQ worker + chained append)', N, queueS, rate(N, queueS)],
          ['verify the whole chain (read in batches + SHA-256)', total, verifyS, rate(total, verifyS)],
        ],
      ),
      '',
      `Chained appends run at ${((100 * plainS) / chainedS).toFixed(0)}% of the plain insert rate.`,
      '',
    ];
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench', 'results', 'audit-append.md'), lines.join('\n'));
    process.stdout.write(lines.join('\n'));
  } finally {
    await queue?.close();
    await app?.close();
    await pg.end().catch(() => undefined);
    await dropDatabase(db.name);
    await clearRedisPrefix(prefix);
  }
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : error}\n`);
  process.exitCode = 1;
});
