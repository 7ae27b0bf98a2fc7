import { WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Inject, OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JobName, producerOfAuditQueue } from '@desk/contracts';
import { JobValidator } from '@desk/platform';
import { AUDIT_CONFIG, type AuditConfig } from '../../config';
import { AuditLogService } from './audit-log.service';
import { AuditWorkers } from './audit-workers';

/**
 * Appends the events of one audit queue. Each service writes its own queue (docs/adr/0016), so the queue
 * names the producer: an event whose actor that service may not claim is refused and recorded as
 * `job.forged`. The concrete processors, one per queue, are in audit-queue.processors.ts.
 */
export abstract class AuditEventProcessor
  extends WorkerHost
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  constructor(
    @Inject(JobValidator) private readonly jobs: JobValidator,
    @Inject(AuditLogService) private readonly auditLog: AuditLogService,
    @Inject(AuditWorkers) private readonly workers: AuditWorkers,
    @Inject(AUDIT_CONFIG) private readonly config: AuditConfig,
  ) {
    super();
  }

  /** As many jobs in hand as fit in one batch: they wait together for the batch to commit. */
  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.AUDIT_BATCH_SIZE;
    this.workers.add(this.worker);
  }

  /** Every audit queue's worker stops, their jobs in hand commit, then the final head is signed once. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.workers.drain();
  }

  /** An event, or a batch of them the producer's relay published together: each checked as if alone. */
  async process(job: Job): Promise<unknown> {
    const producer = producerOfAuditQueue(job.queueName);
    return this.jobs.parseOneOrBatch(JobName.AuditEvent, job, (event) =>
      this.auditLog.append(event, producer),
    );
  }
}
