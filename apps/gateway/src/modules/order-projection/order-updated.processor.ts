import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JobName, QueueName } from '@desk/contracts';
import { JobValidator } from '@desk/platform';
import { OrderProjectionService, PROJECTION_BATCH_SIZE } from './order-projection.service';

/**
 * Order transitions from their owners (risk, execution), in any order, alone or in batch jobs: each is
 * projected once. Up to
 * PROJECTION_BATCH_SIZE at once, so that they are projected in batches.
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
    if (job.name === String(JobName.OrderUpdateBatch)) {
      // Updates the owner's relay published together (docs/adr/0024): each verified and projected as if it
      // came alone, in the same projection batches; a forged one is refused alone.
      const batch = await this.jobs.parse(JobName.OrderUpdateBatch, job);
      return this.jobs.eachVerified(job, batch.jobs, (update) => this.projection.apply(update));
    }
    const update = await this.jobs.parse(JobName.OrderUpdated, job);
    return this.jobs.verified(job, () => this.projection.apply(update));
  }
}
