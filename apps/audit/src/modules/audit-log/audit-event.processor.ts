import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JobName, QueueName } from '@desk/contracts';
import { JobValidator } from '@desk/platform';
import { AuditLogService } from './audit-log.service';

@Processor(QueueName.Audit, { concurrency: 4 })
export class AuditEventProcessor extends WorkerHost {
  constructor(
    @Inject(JobValidator) private readonly jobs: JobValidator,
    @Inject(AuditLogService) private readonly auditLog: AuditLogService,
  ) {
    super();
  }

  async process(job: Job): Promise<{ recorded: boolean }> {
    return this.auditLog.append(await this.jobs.parse(JobName.AuditEvent, job));
  }
}
