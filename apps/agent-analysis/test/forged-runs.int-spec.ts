import { Test, type TestingModule } from '@nestjs/testing';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { JobName, QueueName, SCHEMA_VERSION, type AgentRun, type AuditEvent } from '@desk/contracts';
import { redisOptions, uuidFromHash } from '@desk/platform';
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

const HOUR = 3_600_000;

/**
 * The attack (docs/adr/0016): whoever can write to Redis adds `agent.run` jobs to the agent-schedule
 * queue — under any id, or under the scheduler's own id form for extra, old or future slots — and the
 * agents would run (and trade) as often as the attacker likes. A run is accepted only as the configured
 * scheduler's, in a slot not ahead of now and at least one AGENT_SCHEDULE_MS after every slot run before
 * (agents.run_slots); a forgery runs nothing and is audited as `job.forged`.
 */
describe('agent-analysis refuses runs its schedule does not allow (own database)', () => {
  let db: { name: string; url: string };
  let pg: Client;
  let service: TestingModule;
  let schedule: Queue;
  let audit: Queue;
  let firstSlot: number;

  beforeAll(async () => {
    db = await createMigratedDatabase('agentsforged');
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    const env = testEnv();
    const prefix = uniquePrefix(env.redisPrefix);
    const config = loadAgentAnalysisConfig({
      DATABASE_URL: db.url,
      REDIS_URL: env.redisUrl,
      REDIS_PREFIX: prefix,
      LOG_LEVEL: 'silent',
      // One run now (the scheduler's first slot), the next in an hour.
      AGENT_SCHEDULE_MS: String(HOUR),
    });
    service = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
    await service.init();
    const connection = redisOptions(env.redisUrl);
    schedule = new Queue(QueueName.AgentSchedule, { connection, prefix });
    audit = new Queue(QueueName.AuditAgentAnalysis, { connection, prefix });
    firstSlot = await waitFor(
      async () => {
        const r = await pg.query<{ slot: string }>('SELECT slot::text FROM agents.run_slots');
        return r.rows.length ? Number(r.rows[0]!.slot) : undefined;
      },
      { what: "the scheduler's first run" },
    );
  });

  afterAll(async () => {
    await service?.close();
    await Promise.all([schedule?.close(), audit?.close()]);
    await pg?.end();
    if (db) await dropDatabase(db.name);
  });

  const run = (correlationId = 'agent-schedule'): AgentRun => ({
    schemaVersion: SCHEMA_VERSION,
    correlationId,
  });

  async function forge(jobId: string, data = run()) {
    await schedule.add(JobName.AgentRun, data, { jobId });
    return finishedJob(schedule, jobId, 'failed');
  }

  async function decisionsOf(jobId: string): Promise<number> {
    const r = await pg.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM agents.decisions WHERE run_id = $1',
      [uuidFromHash(`agent.run:${jobId}`)],
    );
    return r.rows[0]!.n;
  }

  async function forgedEvent(jobId: string): Promise<AuditEvent> {
    return waitFor(
      async () =>
        unbatched(await audit.getJobs(['waiting', 'prioritized', 'delayed', 'completed']))
          .map((j) => j.data as AuditEvent)
          .find((e) => e.action === 'job.forged' && e.subject.id === `agent-schedule/${jobId}`),
      { what: `job.forged for ${jobId}` },
    );
  }

  it('a run under an id of its own runs nothing, terminally, and is audited', async () => {
    const failed = await forge('forged-run-1');
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/not a run of the scheduler agent-run/);
    expect(await decisionsOf('forged-run-1')).toBe(0);
    expect(await forgedEvent('forged-run-1')).toMatchObject({
      actor: { type: 'service', id: 'agent-analysis' },
      payload: { queue: 'agent-schedule', jobName: 'agent.run', jobId: 'forged-run-1' },
    });
  });

  it("extra, replayed and future slots under the scheduler's id form run nothing", async () => {
    const extra = `repeat:agent-run:${Date.now()}`;
    const old = `repeat:agent-run:${firstSlot - 2 * HOUR}`;
    const future = `repeat:agent-run:${firstSlot + 3 * HOUR}`;
    expect((await forge(extra)).failedReason).toMatch(
      new RegExp(`less than ${HOUR} ms after slot ${firstSlot}`),
    );
    expect((await forge(old)).failedReason).toMatch(new RegExp(`after slot ${firstSlot}.*or before it`));
    expect((await forge(future)).failedReason).toMatch(/is still to come/);
    for (const jobId of [extra, old, future]) {
      expect(await decisionsOf(jobId)).toBe(0);
      await forgedEvent(jobId);
    }
  });

  it("a run that does not carry the scheduler's template is refused", async () => {
    const jobId = `repeat:agent-run:${Date.now() - 1}`;
    expect((await forge(jobId, run('mallory'))).failedReason).toMatch(/no correlation id mallory/);
  });

  it('only the scheduled run ran: one slot, one run of decisions', async () => {
    const slots = await pg.query('SELECT slot FROM agents.run_slots');
    expect(slots.rowCount).toBe(1);
    const runs = await pg.query<{ n: number }>(
      'SELECT count(DISTINCT run_id)::int AS n FROM agents.decisions',
    );
    expect(runs.rows[0]!.n).toBe(1);
  });
});
