import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JobName, QueueName } from '@desk/contracts';
import { JobValidator } from '@desk/platform';
import { IntentsService, type IntentOutcome } from './intents.service';

// One intent at a time: later rules (position and exposure limits) must see each previous decision.
@Processor(QueueName.Intents, { concurrency: 1 })
export class IntentSubmittedProcessor extends WorkerHost {
  constructor(
    @Inject(JobValidator) private readonly jobs: JobValidator,
    @Inject(IntentsService) private readonly intents: IntentsService,
  ) {
    super();
  }

  async process(job: Job): Promise<IntentOutcome> {
    return this.intents.handle(await this.jobs.parse(JobName.IntentSubmitted, job));
  }
}
