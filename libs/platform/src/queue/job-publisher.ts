import { getQueueToken } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Queue } from 'bullmq';
import { JOB_SCHEMAS, jobIdOf, queueOf, type JobData, type JobName, type ServiceName } from '@desk/contracts';
import { SERVICE_NAME } from '../config/tokens';
import { JOB_OPTION_OVERRIDES } from './job-options';

/**
 * Publishes a contract job: validates the payload against its schema (a producer bug fails here, not in
 * the consumer), then adds it under its deterministic job id, so a second add of the same job is a no-op.
 * The queue is the one this service produces the job to (an audit event: the service's own audit queue).
 */
@Injectable()
export class JobPublisher {
  constructor(
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
    @Inject(SERVICE_NAME) private readonly service: ServiceName,
  ) {}

  async publish<N extends JobName>(name: N, data: JobData<N>): Promise<string> {
    const { queue, payload, jobId } = this.prepare(name, data);
    await queue.add(name, payload, { jobId, ...JOB_OPTION_OVERRIDES[name] });
    return jobId;
  }

  /**
   * Publishes jobs whose payloads were validated when they were written (the outbox validates in `add`), in
   * one Redis round trip per queue (BullMQ's addBulk: one MULTI of addJob scripts). Each job keeps its
   * deterministic id, so a job already present is not added again. Resolves once every job is in Redis.
   */
  async publishValidated(jobs: readonly { name: JobName; payload: JobData<JobName> }[]): Promise<void> {
    const byQueue = new Map<Queue, { name: string; data: unknown; opts: Record<string, unknown> }[]>();
    for (const { name, payload } of jobs) {
      const queue = this.queueFor(name);
      const list = byQueue.get(queue) ?? [];
      list.push({
        name,
        data: payload,
        opts: { jobId: jobIdOf(name, payload), ...JOB_OPTION_OVERRIDES[name] },
      });
      byQueue.set(queue, list);
    }
    await Promise.all([...byQueue].map(([queue, list]) => queue.addBulk(list)));
  }

  /**
   * Sends a job again that its producer's records say should have arrived and its consumer never recorded:
   * re-added when Redis no longer has it (lost), retried when it ended in the failed set, left alone while it
   * waits, runs or has completed. The job id is the same, so the consumer's idempotency holds.
   * `sentAs`: the batch job it was published in (docs/adr/0024); that job is the one looked at and retried,
   * and once Redis no longer has it, the job is added again alone.
   */
  async redrive<N extends JobName>(
    name: N,
    data: JobData<N>,
    sentAs?: string,
  ): Promise<'added' | 'retried' | 'present'> {
    const { queue, payload, jobId } = this.prepare(name, data);
    // The batch while Redis has it; then the job itself (a sweep before may have added it alone).
    let target = sentAs ?? jobId;
    let state = await queue.getJobState(target);
    if (state === 'unknown' && target !== jobId) {
      target = jobId;
      state = await queue.getJobState(jobId);
    }
    if (state === 'unknown') {
      await queue.add(name, payload, { jobId, ...JOB_OPTION_OVERRIDES[name] });
      return 'added';
    }
    if (state === 'failed') {
      const job = await queue.getJob(target);
      await job?.retry('failed');
      return 'retried';
    }
    return 'present';
  }

  /** The payload checked against its contract, this service's queue for it, and its deterministic id. */
  private prepare<N extends JobName>(name: N, data: JobData<N>) {
    const payload = JOB_SCHEMAS[name].parse(data) as JobData<N>;
    return { queue: this.queueFor(name), payload, jobId: jobIdOf(name, payload) };
  }

  private queueFor(name: JobName): Queue {
    return this.moduleRef.get<Queue>(getQueueToken(queueOf(name, this.service)), { strict: false });
  }
}
