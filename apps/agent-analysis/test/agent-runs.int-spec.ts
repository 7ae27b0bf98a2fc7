import { Test } from '@nestjs/testing';
import { Queue, type Job } from 'bullmq';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AuditAction,
  IntentSource,
  JobName,
  MARKET_CATALOG,
  OrderType,
  QueueName,
  SCHEMA_VERSION,
  auditEventSchema,
  intentSubmittedSchema,
  money,
  type AuditEvent,
  type IntentSubmitted,
} from '@desk/contracts';
import { MarketPriceStore, OutboxRedrive, redisOptions } from '@desk/platform';
import {
  createMigratedDatabase,
  dropDatabase,
  finishedJob,
  testEnv,
  uniquePrefix,
  waitFor,
  unbatched,
} from '@desk/testing';
import { AppModule } from '../src/app.module';
import { loadAgentAnalysisConfig } from '../src/config';
import { AgentRunService } from '../src/modules/agents/agent-run.service';

const SYMBOLS = MARKET_CATALOG.map((m) => m.symbol).sort();
// Job names and audit actions arrive as plain strings.
const AUDIT_EVENT: string = JobName.AuditEvent;
const INTENT_EMITTED: string = AuditAction.IntentEmitted;
const SIGNAL_EMITTED: string = AuditAction.SignalEmitted;
const ALL_STATES = ['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized'] as const;

interface Harness {
  moduleRef: Awaited<ReturnType<ReturnType<typeof Test.createTestingModule>['compile']>>;
  intents: Queue;
  audit: Queue;
  schedule: Queue;
  startedAt: Date;
  close(): Promise<void>;
}

/** Starts the service in-process on its own Redis prefix, with fast runs and a low threshold. */
async function start(overrides: Record<string, string>): Promise<Harness> {
  const env = testEnv();
  const prefix = uniquePrefix(env.redisPrefix);
  const config = loadAgentAnalysisConfig({
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: env.redisUrl,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    AGENT_SCHEDULE_MS: '200',
    AGENT_CONVICTION_THRESHOLD: '0.01',
    ...overrides,
  });
  const startedAt = new Date();
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
  await moduleRef.init();
  const connection = redisOptions(env.redisUrl);
  const intents = new Queue(QueueName.Intents, { connection, prefix });
  const audit = new Queue(QueueName.AuditAgentAnalysis, { connection, prefix });
  const schedule = new Queue(QueueName.AgentSchedule, { connection, prefix });
  return {
    moduleRef,
    intents,
    audit,
    schedule,
    startedAt,
    async close() {
      await moduleRef.close();
      await Promise.all([intents.close(), audit.close(), schedule.close()]);
    },
  };
}

async function auditEvents(queue: Queue): Promise<AuditEvent[]> {
  const jobs: Job[] = unbatched(await queue.getJobs([...ALL_STATES]));
  return jobs.filter((j) => j.name === AUDIT_EVENT).map((j) => auditEventSchema.parse(j.data));
}

describe('agent runs (real Redis and PostgreSQL, own database)', () => {
  // A database of its own: the agents' cooldown is read from agents.decisions, where other files (risk's
  // tests record agent intents) would otherwise put recent intents for the same symbols.
  let db: { name: string; url: string };
  let pg: Client;

  beforeAll(async () => {
    db = await createMigratedDatabase('agents');
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });
  afterAll(async () => {
    await pg.end();
    await dropDatabase(db.name);
  });

  /** Decisions of the runs since `since`, with how many signals each has. */
  async function decisionsSince(since: Date) {
    const r = await pg.query<{
      run_id: string;
      symbol: string;
      outcome: string;
      blend: string | null;
      intent_id: string | null;
      signals: number;
      price: string;
    }>(
      `SELECT d.run_id, d.symbol, d.outcome, d.blended_conviction::text AS blend, d.intent_id,
              count(s.id)::int AS signals, max(s.price)::text AS price
         FROM agents.decisions d JOIN agents.signals s USING (run_id, symbol)
        WHERE d.created_at >= $1
        GROUP BY d.run_id, d.symbol, d.outcome, d.blended_conviction, d.intent_id`,
      [since],
    );
    return r.rows;
  }

  describe('with trading enabled', () => {
    let h: Harness;
    beforeAll(async () => {
      // The re-drive sweep runs when a test says (an intent unrecorded by risk for 5 s is sent again).
      h = await start({ DATABASE_URL: db.url, REDRIVE_AFTER_MS: '5000', REDRIVE_INTERVAL_MS: '600000' });
    });
    afterAll(() => h.close());

    it('records three signals and a decision per symbol, and publishes the prices', async () => {
      const rows = await waitFor(
        async () => {
          const r = await decisionsSince(h.startedAt);
          return new Set(r.map((d) => d.symbol)).size === SYMBOLS.length ? r : undefined;
        },
        { what: 'a decision for every symbol' },
      );
      for (const d of rows) expect(d.signals).toBe(3);

      const signals = await pg.query<{
        agent: string;
        direction: string;
        conviction: string | null;
        rationale: string;
      }>(
        `SELECT agent, direction, conviction::text, rationale FROM agents.signals WHERE run_id = $1 AND symbol = $2`,
        [rows[0]!.run_id, rows[0]!.symbol],
      );
      expect(signals.rows.map((s) => s.agent).sort()).toEqual(['mean-reversion', 'trend', 'volatility']);
      for (const s of signals.rows) {
        expect(['long', 'short', 'abstain']).toContain(s.direction);
        expect(s.conviction === null).toBe(s.direction === 'abstain');
        expect(s.rationale.length).toBeGreaterThan(10);
      }

      const prices = await h.moduleRef.get(MarketPriceStore).getAll();
      expect([...prices.keys()].sort()).toEqual(SYMBOLS);
      for (const p of prices.values()) expect(p.price.isPositive()).toBe(true);
    });

    it('submits a valid agent intent to risk, sized from the blend, audited, and once per cooldown', async () => {
      const jobs = await waitFor(
        async () => {
          const all = await h.intents.getJobs([...ALL_STATES]);
          return all.length > 0 ? all : undefined;
        },
        { what: 'an intent on the intents queue' },
      );
      const intent: IntentSubmitted = intentSubmittedSchema.parse(jobs[0]!.data);
      expect(jobs[0]!.name).toBe(JobName.IntentSubmitted);
      expect(intent).toMatchObject({
        schemaVersion: SCHEMA_VERSION,
        source: IntentSource.Agent,
        actor: { type: 'service', id: 'agent-analysis' },
        order: { type: OrderType.Market },
      });

      const decision = await pg.query<{ run_id: string; blend: string; price: string }>(
        `SELECT d.run_id, d.blended_conviction::text AS blend, s.price::text AS price
           FROM agents.decisions d JOIN agents.signals s USING (run_id, symbol)
          WHERE d.intent_id = $1 AND d.outcome = 'intent' LIMIT 1`,
        [intent.intentId],
      );
      const { blend, price, run_id } = decision.rows[0]!;
      const market = MARKET_CATALOG.find((m) => m.symbol === intent.order.symbol)!;
      expect(intent.order.side).toBe(money(blend).isPositive() ? 'buy' : 'sell');
      const expected = money('1000')
        .times(money(blend).abs())
        .div(money(price))
        .toDecimalPlaces(market.quantityPrecision, 1);
      expect(money(intent.order.quantity).eq(expected)).toBe(true);
      expect(intent.correlationId).toBe(run_id);

      const events = await waitFor(
        async () => {
          const all = await auditEvents(h.audit);
          return all.some((e) => e.action === INTENT_EMITTED && e.subject.id === intent.intentId)
            ? all
            : undefined;
        },
        { what: 'the intent audit event' },
      );
      const emitted = events.find((e) => e.action === INTENT_EMITTED && e.subject.id === intent.intentId)!;
      expect(emitted.payload).toMatchObject({
        symbol: intent.order.symbol,
        quantity: intent.order.quantity,
        blend,
      });
      const signalEvent = events.find(
        (e) => e.action === SIGNAL_EMITTED && e.payload['intentId'] === intent.intentId,
      );
      expect(signalEvent?.payload).toMatchObject({ symbol: intent.order.symbol, outcome: 'intent', blend });
      expect(signalEvent?.payload['signals']).toHaveLength(3);

      // Several more runs: the cooldown (60 s by default) keeps it to one intent per symbol.
      await waitFor(
        async () => {
          const r = await decisionsSince(h.startedAt);
          return r.filter((d) => d.outcome === 'cooldown').length >= 3 ? r : undefined;
        },
        { what: 'runs in cooldown' },
      );
      const perSymbol = new Map<string, number>();
      for (const j of await h.intents.getJobs([...ALL_STATES])) {
        const s = intentSubmittedSchema.parse(j.data).order.symbol;
        perSymbol.set(s, (perSymbol.get(s) ?? 0) + 1);
      }
      for (const n of perSymbol.values()) expect(n).toBe(1);
    });

    it('sends an intent Redis lost to risk again, the same intent under the same id (no risk runs here)', async () => {
      const [lost] = await h.intents.getJobs([...ALL_STATES]);
      expect(lost).toBeDefined();
      await h.intents.remove(lost!.id!);
      await new Promise((r) => setTimeout(r, 5200));
      expect(await h.moduleRef.get(OutboxRedrive).redrive()).toBeGreaterThanOrEqual(1);
      expect(await h.intents.getJobState(lost!.id!)).toBe('waiting');
      expect((await h.intents.getJob(lost!.id!))?.data).toEqual(lost!.data);
    });

    it('records a redelivered run job only once', async () => {
      const runs = h.moduleRef.get(AgentRunService);
      const job = { schemaVersion: SCHEMA_VERSION, correlationId: 'manual-run' } as const;
      const first = await runs.run(job, 'manual-job-1');
      const again = await runs.run(job, 'manual-job-1');
      expect(again.runId).toBe(first.runId);
      const count = await pg.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM agents.signals WHERE run_id = $1`,
        [first.runId],
      );
      expect(count.rows[0]!.n).toBe(SYMBOLS.length * 3);
    });

    it('fails a malformed run job terminally', async () => {
      const job = await h.schedule.add(JobName.AgentRun, { schemaVersion: SCHEMA_VERSION });
      const failed = await finishedJob(h.schedule, String(job.id), 'failed');
      expect(failed.attemptsMade).toBe(1);
      expect(failed.failedReason).toMatch(/correlationId/);
    });
  });

  describe('with trading disabled', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await start({ DATABASE_URL: db.url, AGENT_TRADING_ENABLED: 'false' });
    });
    afterAll(() => h.close());

    it('still records signals and decisions but emits no intent', async () => {
      const rows = await waitFor(
        async () => {
          const r = await decisionsSince(h.startedAt);
          return new Set(r.map((d) => d.run_id)).size >= 3 ? r : undefined;
        },
        { what: 'three runs' },
      );
      expect(rows.some((d) => d.outcome === 'disabled')).toBe(true);
      expect(rows.filter((d) => d.outcome === 'intent' || d.intent_id !== null)).toEqual([]);

      await waitFor(async () =>
        (await auditEvents(h.audit)).some((e) => e.action === SIGNAL_EMITTED) ? true : undefined,
      );
      // Give the outbox relay time to publish anything else it might have.
      await new Promise((r) => setTimeout(r, 500));
      expect(await h.intents.getJobs([...ALL_STATES])).toEqual([]);
      expect((await auditEvents(h.audit)).filter((e) => e.action === INTENT_EMITTED)).toEqual([]);
    });
  });
});
