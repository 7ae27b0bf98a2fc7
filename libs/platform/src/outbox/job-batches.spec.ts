import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
  JOB_SCHEMAS,
  JobName,
  MAX_JOB_BATCH,
  SCHEMA_VERSION,
  jobIdOf,
  type AuditEvent,
  type JobData,
} from '@desk/contracts';
import { packBatches, type OutboxJob } from './job-batches';

const audit = (n: number): OutboxJob => ({
  name: JobName.AuditEvent,
  payload: {
    schemaVersion: SCHEMA_VERSION,
    eventId: randomUUID(),
    occurredAt: new Date(0).toISOString(),
    actor: { type: 'service', id: 'execution' },
    action: 'order.filled',
    subject: { type: 'order', id: `o${n}` },
    payload: { n },
    correlationId: `c${n}`,
  } satisfies AuditEvent,
});
const intent = (): OutboxJob => ({
  name: JobName.IntentSubmitted,
  payload: { intentId: randomUUID() } as unknown as JobData<JobName>,
});

describe('packBatches: what one outbox relay round publishes', () => {
  it('packs the audit events of a round into one valid batch job, in order, and leaves other jobs alone', () => {
    const events = [audit(1), audit(2), audit(3)];
    const other = intent();
    const out = packBatches([events[0]!, other, events[1]!, events[2]!]);
    expect(out.map((j) => j.name)).toEqual([JobName.IntentSubmitted, JobName.AuditEventBatch]);
    expect(out[0]).toBe(other);
    const batch = JOB_SCHEMAS[JobName.AuditEventBatch].parse(out[1]!.payload);
    expect(batch.jobs.map((e) => e.eventId)).toEqual(events.map((e) => (e.payload as AuditEvent).eventId));
  });

  it('sends a lone event as it is (no batch of one)', () => {
    const one = audit(1);
    expect(packBatches([one, intent()]).filter((j) => j.name === JobName.AuditEvent)).toEqual([one]);
  });

  it(`never puts more than ${MAX_JOB_BATCH} in one batch`, () => {
    const out = packBatches(Array.from({ length: MAX_JOB_BATCH * 2 + 1 }, (_, i) => audit(i)));
    expect(out.map((j) => (j.payload as JobData<JobName.AuditEventBatch>).jobs.length)).toEqual([
      MAX_JOB_BATCH,
      MAX_JOB_BATCH,
      1,
    ]);
  });

  it('gives the same round the same batch id (published again after a crash: added once), and another round another', () => {
    const events = [audit(1), audit(2)];
    const id = (jobs: OutboxJob[]) =>
      jobIdOf(JobName.AuditEventBatch, packBatches(jobs)[0]!.payload as never);
    expect(id(events)).toBe(id([...events]));
    expect(id(events)).not.toBe(id([events[0]!, audit(3)]));
    expect(id(events)).not.toContain(':'); // a BullMQ job id must not contain its key separator
  });
});
