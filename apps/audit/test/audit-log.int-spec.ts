import { randomUUID } from 'node:crypto';
import { Test } from '@nestjs/testing';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditAction, JobName, QueueName, SCHEMA_VERSION, type AuditEvent } from '@desk/contracts';
import { redisOptions } from '@desk/platform';
import { testEnv, uniquePrefix, waitFor } from '@desk/testing';
import { AppModule } from '../src/app.module';
import { loadAuditConfig } from '../src/config';

describe('audit service consuming the audit queue (real Redis and PostgreSQL)', () => {
  const env = testEnv();
  const prefix = uniquePrefix(env.redisPrefix);
  const config = loadAuditConfig({
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: env.redisUrl,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: 'silent',
  });
  let close: () => Promise<void>;
  let queue: Queue;
  const pg = new Client({ connectionString: env.databaseUrl });

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
    await moduleRef.init();
    close = () => moduleRef.close();
    queue = new Queue(QueueName.Audit, { connection: redisOptions(env.redisUrl), prefix });
    await pg.connect();
  });

  afterAll(async () => {
    await queue.close();
    await close();
    await pg.end();
  });

  function event(): AuditEvent {
    return {
      schemaVersion: SCHEMA_VERSION,
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      actor: { type: 'service', id: 'risk' },
      action: AuditAction.OrderAccepted,
      subject: { type: 'order', id: randomUUID() },
      payload: { notional: '1234.5' },
      correlationId: randomUUID(),
    };
  }

  it('records an event once even when the same event is delivered twice', async () => {
    const e = event();
    await queue.add(JobName.AuditEvent, e, { jobId: `${e.eventId}-a` });
    await queue.add(JobName.AuditEvent, e, { jobId: `${e.eventId}-b` });
    const rows = await waitFor(async () => {
      const r = await pg.query(
        'select action, payload, subject_id from audit.audit_events where event_id = $1',
        [e.eventId],
      );
      const done = await queue.getJobCounts('completed');
      return r.rowCount === 1 && (done.completed ?? 0) >= 2 ? r.rows : undefined;
    });
    expect(rows).toEqual([
      { action: 'order.accepted', payload: '{"notional":"1234.5"}', subject_id: e.subject.id },
    ]);
  });

  it('fails a malformed job terminally and records why', async () => {
    const job = await queue.add(JobName.AuditEvent, { schemaVersion: SCHEMA_VERSION, eventId: 'not-a-uuid' });
    const failed = await waitFor(async () => {
      const j = await queue.getJob(String(job.id));
      return j && (await j.isFailed()) ? j : undefined;
    });
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/eventId/);
    const rejection = await waitFor(async () => {
      const r = await pg.query(
        `select payload from audit.audit_events where action = 'job.rejected' and subject_id = $1`,
        [`${QueueName.Audit}/${job.id}`],
      );
      return r.rows[0] as { payload: string } | undefined;
    });
    expect(JSON.parse(rejection.payload)).toMatchObject({
      queue: 'audit',
      reason: expect.stringMatching(/eventId/),
    });
  });
});
