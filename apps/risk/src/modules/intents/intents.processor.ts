import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JobName, QueueName } from '@desk/contracts';
import { JobValidator } from '@desk/platform';
import { DECISION_BATCH_SIZE, IntentsService, type IntentOutcome } from './intents.service';

/**
 * The intents queue carries new intents and approvals of held ones (released, or never: denied, expired,
 * refused). Up to DECISION_BATCH_SIZE run at once so that new intents can be decided in batches; every
 * decision holds the risk book, so decisions still take turns and limits hold whatever the concurrency.
 * Runs only on the writer instance (autorun: false; LeaderDutiesService starts and pauses it,
 * docs/adr/0015). Any other job name fails validation (and is audited); an intent
 * or approval its source did not record is refused as forged (audited, terminal).
 */
@Processor(QueueName.Intents, { concurrency: DECISION_BATCH_SIZE, autorun: false })
export class IntentsProcessor extends WorkerHost {
  constructor(
    @Inject(JobValidator) private readonly jobs: JobValidator,
    @Inject(IntentsService) private readonly intents: IntentsService,
  ) {
    super();
  }

  async process(job: Job): Promise<IntentOutcome> {
    if (job.name === String(JobName.IntentApproved)) {
      const approved = await this.jobs.parse(JobName.IntentApproved, job);
      return this.jobs.verified(job, () => this.intents.approve(approved));
    }
    if (job.name === String(JobName.IntentNotApproved)) {
      const closed = await this.jobs.parse(JobName.IntentNotApproved, job);
      return this.jobs.verified(job, () => this.intents.notApproved(closed));
    }
    const intent = await this.jobs.parse(JobName.IntentSubmitted, job);
    return this.jobs.verified(job, () => this.intents.handle(intent));
  }
}
