import type { TestingModule } from '@nestjs/testing';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import {
  AUDIT_QUEUES,
  AuditAction,
  JobName,
  SCHEMA_VERSION,
  ServiceName,
  type AuditEvent,
} from '@desk/contracts';
import { redisOptions } from '@desk/platform';
import { finishedJob, waitFor } from '@desk/testing';
import { AuditHarness, auditEvent } from './audit-harness';

/**
 * The attack (docs/adr/0016): a service that can write its own audit queue (or an attacker holding its
 * Redis password) adds an event in another service's name, or in an operator's name it never
 * authenticated: a lie in the tamper-evident log. Each service writes only its own queue (the Redis ACL
 * keeps it so: test/integration/redis-acl.int-spec.ts), so the queue names the producer; the audit service
 * stores only events whose actor that producer may claim, and records each refusal as `job.forged`.
 */
describe('the audit service refuses events whose actor their queue does not vouch for (own database)', () => {
  let h: AuditHarness;
  let service: TestingModule | undefined;
  const queues = new Map<ServiceName, Queue>();
  const queue = (s: ServiceName): Queue => {
    let q = queues.get(s);
    if (!q) {
      q = new Queue(AUDIT_QUEUES[s], { connection: redisOptions(h.env.redisUrl), prefix: h.prefix });
      queues.set(s, q);
    }
    return q;
  };

  beforeAll(async () => {
    h = await AuditHarness.create();
    service = await h.start();
  });

  afterAll(async () => {
    await service?.close();
    await Promise.all([...queues.values()].map((q) => q.close()));
    await h.close();
  });

  async function send(from: ServiceName, event: AuditEvent, state: 'completed' | 'failed') {
    await queue(from).add(JobName.AuditEvent, event, { jobId: event.eventId });
    return finishedJob(queue(from), event.eventId, state);
  }

  async function storedActions(eventId: string): Promise<string[]> {
    const r = await h.pg.query<{ action: string }>(
      'SELECT action FROM audit.audit_events WHERE event_id = $1',
      [eventId],
    );
    return r.rows.map((row) => row.action);
  }

  async function forgedRecord(subject: string): Promise<{ actor_id: string; payload: string }> {
    return waitFor(async () => {
      const r = await h.pg.query<{ actor_id: string; payload: string }>(
        `SELECT actor_id, payload FROM audit.audit_events WHERE action = 'job.forged' AND subject_id = $1`,
        [subject],
      );
      return r.rows[0];
    });
  }

  it("an event on risk's queue in the execution service's name is refused, not stored, and recorded as forged", async () => {
    const lie = auditEvent({ actor: { type: 'service', id: 'execution' }, action: AuditAction.OrderFilled });
    const failed = await send(ServiceName.Risk, lie, 'failed');

    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/risk's audit queue claims the actor service execution/);
    expect(await storedActions(lie.eventId)).toEqual([]);
    const record = await forgedRecord(`audit.risk/${lie.eventId}`);
    expect(record.actor_id).toBe('audit');
    expect(JSON.parse(record.payload)).toMatchObject({ queue: 'audit.risk', jobName: 'audit.event' });
  });

  it("an operator's action recorded by a service that never authenticates operators is refused", async () => {
    const lie = auditEvent({
      actor: { type: 'operator', id: 'op-alice', keyId: 'kid_0000000000000001' },
      action: AuditAction.ApprovalApproved,
    });
    const failed = await send(ServiceName.Execution, lie, 'failed');
    expect(failed.failedReason).toMatch(/execution records no operator's actions/);
    expect(await storedActions(lie.eventId)).toEqual([]);
    await forgedRecord(`audit.execution/${lie.eventId}`);
  });

  it('another service may be named only where the producer records its request on its behalf', async () => {
    const agentOrder = auditEvent({
      actor: { type: 'service', id: 'agent-analysis' },
      action: AuditAction.OrderReceived,
    });
    await send(ServiceName.Risk, agentOrder, 'completed');
    expect(
      await waitFor(async () => ((await storedActions(agentOrder.eventId)).length ? true : undefined)),
    ).toBe(true);
    const agentSignal = auditEvent({
      actor: { type: 'service', id: 'agent-analysis' },
      action: AuditAction.SignalEmitted,
    });
    const failed = await send(ServiceName.Risk, agentSignal, 'failed');
    expect(failed.failedReason).toMatch(/claims the actor service agent-analysis \(action signal\.emitted\)/);
    expect(await storedActions(agentSignal.eventId)).toEqual([]);
  });

  it("each service's own events, and operators' actions the gateway recorded, are stored", async () => {
    const own = auditEvent({ actor: { type: 'service', id: 'execution' }, action: AuditAction.OrderFilled });
    const operator = auditEvent({
      actor: { type: 'operator', id: 'op-alice', keyId: 'kid_0000000000000001' },
      action: AuditAction.ApprovalApproved,
    });
    await send(ServiceName.Execution, own, 'completed');
    await send(ServiceName.Gateway, operator, 'completed');
    expect(await storedActions(own.eventId)).toEqual(['order.filled']);
    expect(await storedActions(operator.eventId)).toEqual(['approval.approved']);
    // The chain still verifies with the refusals in it.
    expect((await h.verify()).ok).toBe(true);
  });

  // docs/adr/0024: a relay publishes the audit events of one round as one batch job. A batch vouches for
  // nothing: each event in it is checked as if it came alone.
  async function sendBatch(from: ServiceName, events: AuditEvent[]) {
    const batchId = randomUUID();
    const jobId = `${batchId}.batch`;
    await queue(from).add(
      JobName.AuditEventBatch,
      { schemaVersion: SCHEMA_VERSION, correlationId: `batch-${batchId}`, batchId, jobs: events },
      { jobId },
    );
    return { jobId, job: await finishedJob(queue(from), jobId, 'completed') };
  }

  it('a batch with a forged event among honest ones: the honest are stored, the forged alone is refused and recorded', async () => {
    const honest = [1, 2].map(() =>
      auditEvent({ actor: { type: 'service', id: 'risk' }, action: AuditAction.OrderAccepted }),
    );
    const lie = auditEvent({ actor: { type: 'service', id: 'execution' }, action: AuditAction.OrderFilled });
    const { jobId, job } = await sendBatch(ServiceName.Risk, [honest[0]!, lie, honest[1]!]);

    expect(job.returnvalue).toEqual({ done: 2, refused: 1 });
    expect(await storedActions(honest[0]!.eventId)).toEqual(['order.accepted']);
    expect(await storedActions(honest[1]!.eventId)).toEqual(['order.accepted']);
    expect(await storedActions(lie.eventId)).toEqual([]);
    const record = await forgedRecord(`audit.risk/${jobId}#1`);
    expect(JSON.parse(record.payload)).toMatchObject({
      queue: 'audit.risk',
      jobName: 'audit.event_batch',
      member: 1,
      reason: expect.stringMatching(/risk's audit queue claims the actor service execution/),
    });
    expect((await h.verify()).ok).toBe(true);
  });

  it('an event published again in another batch (a relay regrouped after a crash) is stored once', async () => {
    const first = auditEvent({
      actor: { type: 'service', id: 'execution' },
      action: AuditAction.OrderFilled,
    });
    const second = auditEvent({
      actor: { type: 'service', id: 'execution' },
      action: AuditAction.OrderFilled,
    });
    await sendBatch(ServiceName.Execution, [first]);
    const { job } = await sendBatch(ServiceName.Execution, [first, second]);
    expect(job.returnvalue).toEqual({ done: 2, refused: 0 });
    expect(await storedActions(first.eventId)).toEqual(['order.filled']);
    expect(await storedActions(second.eventId)).toEqual(['order.filled']);
    await send(ServiceName.Execution, first, 'completed'); // and once more alone (the re-drive sweep)
    expect(await storedActions(first.eventId)).toEqual(['order.filled']);
  });

  it('a batch job that is not a valid batch is rejected whole and stores nothing', async () => {
    const event = auditEvent({ actor: { type: 'service', id: 'risk' }, action: AuditAction.OrderAccepted });
    const batchId = randomUUID();
    await queue(ServiceName.Risk).add(
      JobName.AuditEventBatch,
      { schemaVersion: SCHEMA_VERSION, correlationId: 'x', batchId, jobs: [{ ...event, extra: 1 }] },
      { jobId: `${batchId}.batch` },
    );
    const failed = await finishedJob(queue(ServiceName.Risk), `${batchId}.batch`, 'failed');
    expect(failed.failedReason).toMatch(/invalid audit.event_batch job/);
    expect(await storedActions(event.eventId)).toEqual([]);
  });
});
