import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import {
  AuditAction,
  BATCHED_AS,
  JOB_SCHEMAS,
  SCHEMA_VERSION,
  describeIssues,
  serviceActor,
  type BatchableJob,
  type JobData,
  type JobName,
  type ServiceName,
} from '@desk/contracts';
import { SERVICE_NAME } from '../config/tokens';
import { AuditPublisher } from './audit-publisher';
import { UnverifiedJobError } from './unverified-job.error';

/**
 * A job is input like any other. Every consumer parses its payload here: a job that does not match its
 * contract fails terminally (UnrecoverableError: never retried) and the rejection is recorded in the audit
 * log with the reason, the queue and the job id.
 */
@Injectable()
export class JobValidator {
  private readonly logger = new Logger(JobValidator.name);

  constructor(
    @Inject(AuditPublisher) private readonly audit: AuditPublisher,
    @Inject(SERVICE_NAME) private readonly service: ServiceName,
  ) {}

  async parse<N extends JobName>(expected: N, job: Job): Promise<JobData<N>> {
    const reason = this.check(expected, job);
    if (reason === undefined) return JOB_SCHEMAS[expected].parse(job.data) as JobData<N>;
    this.logger.warn({ queue: job.queueName, jobId: job.id, jobName: job.name, reason }, 'job rejected');
    const jobKey = `${job.queueName}/${job.id ?? 'unknown'}`;
    await this.audit.record({
      // Same rejected job, same event id: a retried rejection is recorded once (another job that reuses
      // the id, with another payload or added later, is recorded too).
      eventId: uuidFromHash(`job.rejected:${this.service}:${jobKey}:${fingerprint(job)}`),
      actor: serviceActor(this.service),
      action: AuditAction.JobRejected,
      subject: { type: 'job', id: jobKey.slice(0, 200) },
      payload: {
        queue: job.queueName,
        jobName: String(job.name).slice(0, 100),
        reason: reason.slice(0, 2000),
      },
      correlationId: String(job.id ?? 'unknown').slice(0, 100),
    });
    throw new UnrecoverableError(`invalid ${String(job.name)} job: ${reason}`);
  }

  /**
   * Runs a consumer's work on a job; when the work finds the job's claims unverifiable
   * (`UnverifiedJobError`), records `job.forged` (queue, job name and id, why, and a digest of the payload:
   * never the payload) and fails the job terminally. Any other error propagates (infrastructure: retried).
   */
  async verified<T>(job: Job, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof UnverifiedJobError)) throw error;
      return this.refuseForged(job, error.reason);
    }
  }

  /**
   * Parses and runs a job that may come alone or packed in its batch job (BATCHED_AS, docs/adr/0024): alone,
   * as `verified` does; a batch, each member as if it had come alone (`eachVerified`). Any other job name is
   * rejected (and audited) as `parse` does.
   */
  async parseOneOrBatch<N extends BatchableJob, T>(
    expected: N,
    job: Job,
    work: (data: JobData<N>) => Promise<T>,
  ): Promise<T | { done: number; refused: number }> {
    if (job.name === String(BATCHED_AS[expected])) {
      const batch = (await this.parse(BATCHED_AS[expected], job)) as { jobs: JobData<N>[] };
      return this.eachVerified(job, batch.jobs, work);
    }
    const data = await this.parse(expected, job);
    return this.verified(job, () => work(data));
  }

  /**
   * Runs a consumer's work on every member of a batch job (docs/adr/0024) at once, each as if it had come
   * alone: a member whose claims do not hold (`UnverifiedJobError`) is refused alone and recorded as
   * `job.forged`, one the consumer cannot take (`UnrecoverableError`) alone as `job.rejected`; the others
   * are done. Any other error fails the job once every member was tried (infrastructure: retried, and the
   * members already done are idempotent).
   */
  async eachVerified<I, T>(
    job: Job,
    members: readonly I[],
    work: (member: I) => Promise<T>,
  ): Promise<{ done: number; refused: number }> {
    const outcomes = await Promise.allSettled(members.map((member) => work(member)));
    let refused = 0;
    let failure: Error | undefined;
    for (const [index, outcome] of outcomes.entries()) {
      if (outcome.status === 'fulfilled') continue;
      const error: unknown = outcome.reason;
      if (error instanceof UnverifiedJobError)
        await this.recordRefusal(job, AuditAction.JobForged, error.reason, index);
      else if (error instanceof UnrecoverableError)
        await this.recordRefusal(job, AuditAction.JobRejected, error.message, index);
      else {
        failure ??= error instanceof Error ? error : new Error(String(error));
        continue;
      }
      refused += 1;
    }
    if (failure) throw failure;
    return { done: members.length - refused, refused };
  }

  private async refuseForged(job: Job, reason: string): Promise<never> {
    await this.recordRefusal(job, AuditAction.JobForged, reason);
    throw new UnrecoverableError(`unverified ${String(job.name)} job: ${reason}`);
  }

  /** `member`: the refused member's index in a batch job (the rest of the batch is not refused). */
  private async recordRefusal(
    job: Job,
    action: AuditAction.JobForged | AuditAction.JobRejected,
    reason: string,
    member?: number,
  ): Promise<void> {
    const at = member === undefined ? '' : `#${member}`;
    this.logger.warn(
      { queue: job.queueName, jobId: job.id, jobName: job.name, member, reason },
      action === AuditAction.JobForged ? 'job forged' : 'job rejected',
    );
    const jobKey = `${job.queueName}/${job.id ?? 'unknown'}${at}`;
    await this.audit.record({
      // Same job (id, time added, payload), same event id: recorded once however often it is retried, while
      // a second forgery that reuses the job id is recorded too.
      eventId: uuidFromHash(`${action}:${this.service}:${jobKey}:${fingerprint(job)}`),
      actor: serviceActor(this.service),
      action,
      subject: { type: 'job', id: jobKey.slice(0, 200) },
      payload: {
        queue: job.queueName,
        jobName: String(job.name).slice(0, 100),
        jobId: String(job.id ?? 'unknown').slice(0, 200),
        ...(member === undefined ? {} : { member }),
        reason: reason.slice(0, 2000),
        payloadSha256: payloadDigest(job),
      },
      correlationId: String(job.id ?? 'unknown').slice(0, 100),
    });
  }

  private check(expected: JobName, job: Job): string | undefined {
    if (job.name !== String(expected))
      return `unexpected job name "${String(job.name)}" (expected "${expected}")`;
    const data: unknown = job.data;
    if (typeof data === 'object' && data !== null && 'schemaVersion' in data) {
      const v = data.schemaVersion;
      if (v !== SCHEMA_VERSION)
        return `unsupported schemaVersion ${JSON.stringify(v)} (supported: ${SCHEMA_VERSION})`;
    }
    const result = JOB_SCHEMAS[expected].safeParse(data);
    return result.success ? undefined : describeIssues(result.error);
  }
}

/** SHA-256 of a job's payload as received: names the payload in the audit log without copying it. */
function payloadDigest(job: Job): string {
  return createHash('sha256')
    .update(String(JSON.stringify(job.data)))
    .digest('hex');
}

/** One job as added: the time BullMQ added it and its payload (a retry keeps both). */
function fingerprint(job: Job): string {
  return `${job.timestamp}:${payloadDigest(job)}`;
}

/** A deterministic UUID (v4 layout) from a string, for idempotent event ids. */
export function uuidFromHash(input: string): string {
  const h = createHash('sha256').update(input).digest('hex');
  const variant = ((parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
