import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JobName, QueueName } from '@desk/contracts';
import { JobValidator } from '@desk/platform';
import { ControlService, type ControlOutcome } from './control.service';

/**
 * Commands from people (through the gateway): kill, resume, limit changes, live venues. One at a time, in
 * order. A command the gateway did not record exactly so is refused as forged (audited, terminal).
 */
@Processor(QueueName.Control, { concurrency: 1, autorun: false })
export class ControlProcessor extends WorkerHost {
  constructor(
    @Inject(JobValidator) private readonly jobs: JobValidator,
    @Inject(ControlService) private readonly control: ControlService,
  ) {
    super();
  }

  async process(job: Job): Promise<ControlOutcome> {
    const command = await this.jobs.parse(JobName.ControlCommand, job);
    return this.jobs.verified(job, () => this.control.handle(command));
  }
}
