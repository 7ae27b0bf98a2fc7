import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JobName, QueueName } from '@desk/contracts';
import { JobValidator } from '@desk/platform';
import { PositionsService, REPORT_BATCH_SIZE } from './positions.service';

/**
 * Execution reports; one execution did not record is refused as forged (audited, terminal). Up to
 * REPORT_BATCH_SIZE at once, so that they are applied in batches.
 */
@Processor(QueueName.Executions, { concurrency: REPORT_BATCH_SIZE, autorun: false })
export class ExecutionReportedProcessor extends WorkerHost {
  constructor(
    @Inject(JobValidator) private readonly jobs: JobValidator,
    @Inject(PositionsService) private readonly positions: PositionsService,
  ) {
    super();
  }

  async process(job: Job): Promise<{ applied: boolean }> {
    const report = await this.jobs.parse(JobName.ExecutionReported, job);
    return this.jobs.verified(job, () => this.positions.handle(report));
  }
}
