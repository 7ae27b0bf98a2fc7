import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JobName, QueueName } from '@desk/contracts';
import { JobValidator } from '@desk/platform';
import { ApprovalsService } from './approvals.service';

@Processor(QueueName.Approvals)
export class ApprovalRequestedProcessor extends WorkerHost {
  constructor(
    @Inject(JobValidator) private readonly jobs: JobValidator,
    @Inject(ApprovalsService) private readonly approvals: ApprovalsService,
  ) {
    super();
  }

  async process(job: Job): Promise<void> {
    const request = await this.jobs.parse(JobName.ApprovalRequested, job);
    await this.jobs.verified(job, () => this.approvals.requestForOrder(request));
  }
}
