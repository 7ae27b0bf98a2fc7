import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JobName, QueueName } from '@desk/contracts';
import { JobValidator } from '@desk/platform';
import { EXECUTION_BATCH_SIZE, OrderExecutionService } from './order-execution.service';

/**
 * The orders queue carries accepted orders and risk's cancel-all (kill switch, halting breaker). Any other
 * job name fails validation (and is audited); an accepted order risk did not accept exactly so, or a
 * cancel-all risk did not ask for exactly so, is refused as forged (audited, terminal). Orders that are
 * worked on at once are recorded together (group commit, docs/adr/0024).
 */
@Processor(QueueName.Orders, { concurrency: EXECUTION_BATCH_SIZE })
export class OrdersProcessor extends WorkerHost {
  constructor(
    @Inject(JobValidator) private readonly jobs: JobValidator,
    @Inject(OrderExecutionService) private readonly execution: OrderExecutionService,
  ) {
    super();
  }

  async process(job: Job): Promise<unknown> {
    if (job.name === String(JobName.OrdersCancelAll)) {
      const cancelAll = await this.jobs.parse(JobName.OrdersCancelAll, job);
      return this.jobs.verified(job, () => this.execution.cancelAll(cancelAll));
    }
    const order = await this.jobs.parse(JobName.OrderAccepted, job);
    return this.jobs.verified(job, () => this.execution.handle(order));
  }
}
