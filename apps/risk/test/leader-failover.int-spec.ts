import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import {
  IntentSource,
  JobName,
  OrderSide,
  OrderType,
  QueueName,
  SCHEMA_VERSION,
  type IntentSubmitted,
} from '@desk/contracts';
import { DEFAULT_JOB_OPTIONS, redisOptions } from '@desk/platform';
import {
  clearRedisPrefix,
  createDatabase,
  dropDatabase,
  freePort,
  migrateAll,
  recordSubmission,
  REPO_ROOT,
  processEnv,
  testEnv,
  uniquePrefix,
  waitFor,
} from '@desk/testing';
import { TRADER } from './risk-harness';

/**
 * The takeover bound after the leader process dies (docs/adr/0015): PostgreSQL ends the dead process's
 * lock session at once (its socket closes), the standby's next poll (RISK_LEADER_POLL_MS, 250 ms here)
 * takes the lock, and it starts its duties.
 */
const TAKEOVER_MS = 5000;
const MAX_ORDERS_PER_DAY = 10;
const INTENTS = 40;

interface RiskProcess {
  readonly name: string;
  readonly port: number;
  readonly child: ChildProcess;
  readonly output: string[];
}

/**
 * Two risk service processes (the built apps/risk/dist/main.js) on one database and one Redis prefix: the
 * leader is SIGKILLed while it is deciding a burst of intents that, evaluated by both at once, would
 * exceed the day's order limit.
 */
describe('risk: two processes side by side, the leader SIGKILLed mid-flow', () => {
  const env = testEnv();
  const prefix = uniquePrefix('riskfailover');
  let db: { name: string; url: string };
  let pg: Client;
  let redis: Redis;
  let intents: Queue;
  let orders: Queue;
  const processes: RiskProcess[] = [];

  async function startRisk(name: string): Promise<RiskProcess> {
    const port = await freePort();
    const metricsPort = await freePort();
    const child = spawn(
      process.execPath,
      ['--enable-source-maps', join(REPO_ROOT, 'apps', 'risk', 'dist', 'main.js')],
      {
        env: processEnv('risk', {
          PATH: process.env.PATH ?? '',
          NODE_ENV: 'test',
          LOG_LEVEL: 'warn',
          DATABASE_URL: db.url,
          REDIS_URL: env.redisUrl,
          REDIS_PREFIX: prefix,
          RISK_PORT: String(port),
          RISK_METRICS_PORT: String(metricsPort),
          RISK_LEADER_POLL_MS: '250',
          RISK_LEADER_SESSION_TIMEOUT_MS: '3000',
          RISK_MAX_ORDERS_PER_DAY: String(MAX_ORDERS_PER_DAY),
          RISK_MAX_SUBMIT_RATE_PER_SYMBOL: '1000',
          RISK_MAX_SUBMIT_RATE_TOTAL: '1000',
          RISK_MAX_PRICE_AGE_MS: '3600000',
          APPROVAL_NOTIONAL_THRESHOLD: '1000000',
        }),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const p: RiskProcess = { name, port, child, output: [] };
    const keep = (chunk: Buffer) => {
      p.output.push(chunk.toString());
      if (p.output.length > 400) p.output.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    processes.push(p);
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`${name} exited: ${p.output.join('').slice(-2000)}`);
        return (await readiness(p)) ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: `${name} to be ready` },
    );
    return p;
  }

  /** The role its readiness reports, or undefined when it does not answer ready. */
  async function readiness(p: RiskProcess): Promise<'leader' | 'standby' | undefined> {
    const res = await fetch(`http://127.0.0.1:${p.port}/health/ready`).catch(() => undefined);
    if (!res?.ok) return undefined;
    const body = (await res.json()) as { details?: { leadership?: { status: string; role: string } } };
    const role = body.details?.leadership?.role;
    return role === 'leader' || role === 'standby' ? role : undefined;
  }

  async function stopProcess(p: RiskProcess): Promise<void> {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
      p.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      p.child.kill('SIGTERM');
    });
  }

  function intent(): IntentSubmitted {
    return {
      schemaVersion: SCHEMA_VERSION,
      correlationId: randomUUID(),
      intentId: randomUUID(),
      source: IntentSource.Operator,
      actor: TRADER,
      order: { symbol: 'BTC/USDT', side: OrderSide.Buy, type: OrderType.Market, quantity: '0.01' },
      submittedAt: new Date().toISOString(),
    };
  }

  async function decidedCount(): Promise<number> {
    const r = await pg.query<{ n: number }>(`select count(*)::int as n from risk.intents`);
    return r.rows[0]!.n;
  }

  beforeAll(async () => {
    db = await createDatabase('riskfailover');
    migrateAll(db.url);
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    redis = new Redis(env.redisUrl);
    const connection = redisOptions(env.redisUrl);
    intents = new Queue(QueueName.Intents, { connection, prefix });
    orders = new Queue(QueueName.Orders, { connection, prefix });
    await redis.hset(`${prefix}:market:last`, { 'BTC/USDT': `65000|${Date.now()}` });
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => stopProcess(p)));
    await intents?.close();
    await orders?.close();
    redis?.disconnect();
    await pg?.end();
    if (process.env.DESK_KEEP_TEST_DATA !== 'true') {
      await clearRedisPrefix(prefix);
      if (db) await dropDatabase(db.name);
    }
  });

  it('only one leads; after the SIGKILL the standby takes over within the bound, every intent is decided once and the limit holds', async () => {
    const first = await startRisk('risk-1');
    const second = await startRisk('risk-2');
    // A standby is ready (healthy, waiting): both answer, exactly one leads.
    expect([await readiness(first), await readiness(second)]).toEqual(['leader', 'standby']);

    const burst = Array.from({ length: INTENTS }, () => intent());
    for (const i of burst) await recordSubmission(pg, i);
    await intents.addBulk(
      burst.map((i) => ({
        name: JobName.IntentSubmitted,
        data: i,
        opts: { ...DEFAULT_JOB_OPTIONS, jobId: i.intentId },
      })),
    );

    // Mid-flow: the leader has decided a few and is deciding more.
    await waitFor(async () => ((await decidedCount()) >= 3 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 10,
      what: 'the leader to decide a few intents',
    });
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    const decidedAtKill = await decidedCount();

    await waitFor(async () => ((await readiness(second)) === 'leader' ? true : undefined), {
      timeoutMs: TAKEOVER_MS,
      intervalMs: 50,
      what: `the standby to take over within ${TAKEOVER_MS} ms`,
    });
    const tookOverMs = Date.now() - killedAt;
    expect(tookOverMs).toBeLessThanOrEqual(TAKEOVER_MS);

    // Every intent decided, including one the killed process held as active (BullMQ's stalled-job check
    // hands it to the new leader once its lock expires: lockDuration + stalledInterval, about a minute).
    await waitFor(async () => ((await decidedCount()) === INTENTS ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 250,
      what: `all ${INTENTS} intents decided (${decidedAtKill} were before the kill)`,
    });

    const ids = burst.map((i) => i.intentId);
    const decisions = await pg.query<{ status: string; reason_code: string | null; n: number }>(
      `select status, reason_code, count(*)::int as n from risk.intents where id = any($1::uuid[])
          group by status, reason_code order by status`,
      [ids],
    );
    expect(decisions.rows).toEqual([
      { status: 'ACCEPTED', reason_code: null, n: MAX_ORDERS_PER_DAY },
      { status: 'REJECTED', reason_code: 'MAX_ORDERS_PER_DAY', n: INTENTS - MAX_ORDERS_PER_DAY },
    ]);
    // Decided exactly once: one decision event per intent, one order.accepted per accepted intent.
    const events = await pg.query<{ n: number }>(
      `select count(*)::int as n from risk.intent_events where intent_id = any($1::uuid[])`,
      [ids],
    );
    expect(events.rows[0]!.n).toBe(INTENTS);
    const accepted = await pg.query<{ id: string }>(
      `select id from risk.intents where id = any($1::uuid[]) and status = 'ACCEPTED' order by id`,
      [ids],
    );
    const outboxed = await pg.query<{ n: number }>(
      `select count(*)::int as n from risk.outbox where job_name = $1`,
      [JobName.OrderAccepted],
    );
    expect(outboxed.rows[0]!.n).toBe(MAX_ORDERS_PER_DAY);
    const published = await waitFor(
      async () => {
        const jobs = (
          await orders.getJobs(['waiting', 'prioritized', 'delayed', 'active', 'completed'])
        ).filter((j) => j.name === String(JobName.OrderAccepted));
        return jobs.length >= MAX_ORDERS_PER_DAY ? jobs : undefined;
      },
      { what: 'the accepted orders published' },
    );
    expect(published.map((j) => j.id).sort()).toEqual(accepted.rows.map((r) => r.id).sort());

    // The killed instance comes back as a standby: the lock stays with the new leader.
    const again = await startRisk('risk-1-again');
    expect([await readiness(second), await readiness(again)]).toEqual(['leader', 'standby']);
  }, 240_000);
});
