import { Processor, WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JobName, QueueName } from '@desk/contracts';
import { JobValidator } from '@desk/platform';
import { AUDIT_CONFIG, type AuditConfig } from '../../config';
import { AuditLogService } from './audit-log.service';
import { CheckpointService } from './checkpoint.service';

@Processor(QueueName.Audit)
export class AuditEventProcessor
  extends WorkerHost
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger(AuditEventProcessor.name);

  constructor(
    @Inject(JobValidator) private readonly jobs: JobValidator,
    @Inject(AuditLogService) private readonly auditLog: AuditLogService,
    @Inject(CheckpointService) private readonly checkpoints: CheckpointService,
    @Inject(AUDIT_CONFIG) private readonly config: AuditConfig,
  ) {
    super();
  }

  /** As many jobs in hand as fit in one batch: they wait together for the batch to commit. */
  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.AUDIT_BATCH_SIZE;
  }

  /**
   * Stops taking jobs and lets the ones in hand commit while the database connection is still open, then
   * signs the final head, so a tail cut while the service is down is detected.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.close();
    await this.checkpoints.checkpoint().catch((error: unknown) => {
      this.logger.warn({ err: error }, 'final checkpoint failed');
    });
  }

  async process(job: Job): Promise<{ recorded: boolean }> {
    return this.auditLog.append(await this.jobs.parse(JobName.AuditEvent, job));
  }
}
