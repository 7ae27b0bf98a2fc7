import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JobName, QueueName } from '@desk/contracts';
import { JobValidator } from '@desk/platform';
import { OrderProjectionService, PROJECTION_BATCH_SIZE } from './order-projection.service';

/**
 * Order transitions from their owners (risk, execution), in any order, alone or in batch jobs (each member
 * verified as if alone): each is projected once. Up to PROJECTION_BATCH_SIZE jobs at once, so that they are
 * projected in batches.
 */
@Processor(QueueName.OrderUpdates, { concurrency: PROJECTION_BATCH_SIZE })
export class OrderUpdatedProcessor extends WorkerHost {
  constructor(
    @Inject(JobValidator) private readonly jobs: JobValidator,
    @Inject(OrderProjectionService) private readonly projection: OrderProjectionService,
  ) {
    super();
  }

  async process(job: Job): Promise<unknown> {
    return this.jobs.parseOneOrBatch(JobName.OrderUpdated, job, (update) => this.projection.apply(update));
  }
}
