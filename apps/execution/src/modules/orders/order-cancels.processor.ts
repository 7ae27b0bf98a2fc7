import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JobName, QueueName } from '@desk/contracts';
import { JobValidator } from '@desk/platform';
import { OrderExecutionService } from './order-execution.service';

/**
 * The order-cancels queue carries operators' cancels from the gateway. A cancel the gateway did not record
 * exactly so is refused as forged (audited, terminal); any other job name fails validation.
 */
@Processor(QueueName.OrderCancels, { concurrency: 2 })
export class OrderCancelsProcessor extends WorkerHost {
  constructor(
    @Inject(JobValidator) private readonly jobs: JobValidator,
    @Inject(OrderExecutionService) private readonly execution: OrderExecutionService,
  ) {
    super();
  }

  async process(job: Job): Promise<unknown> {
    const cancel = await this.jobs.parse(JobName.OrderCancelRequested, job);
    return this.jobs.verified(job, () => this.execution.cancelRequested(cancel));
  }
}
