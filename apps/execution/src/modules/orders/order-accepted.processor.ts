import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JobName, QueueName } from '@desk/contracts';
import { JobValidator } from '@desk/platform';
import { OrderExecutionService } from './order-execution.service';

@Processor(QueueName.Orders, { concurrency: 4 })
export class OrderAcceptedProcessor extends WorkerHost {
  constructor(
    @Inject(JobValidator) private readonly jobs: JobValidator,
    @Inject(OrderExecutionService) private readonly execution: OrderExecutionService,
  ) {
    super();
  }

  async process(job: Job): Promise<{ orderId: string; created: boolean }> {
    return this.execution.handle(await this.jobs.parse(JobName.OrderAccepted, job));
  }
}
