import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JobName, QueueName } from '@desk/contracts';
import { JobValidator } from '@desk/platform';
import { ApprovalWebhook } from './approval-webhook';

@Processor(QueueName.Notifications)
export class ApprovalNotifyProcessor extends WorkerHost {
  constructor(
    @Inject(JobValidator) private readonly jobs: JobValidator,
    @Inject(ApprovalWebhook) private readonly webhook: ApprovalWebhook,
  ) {
    super();
  }

  async process(job: Job): Promise<void> {
    const notice = await this.jobs.parse(JobName.ApprovalNotify, job);
    await this.jobs.verified(job, () => this.webhook.deliver(notice));
  }
}
