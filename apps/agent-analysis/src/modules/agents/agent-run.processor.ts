import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JobName, QueueName } from '@desk/contracts';
import { JobValidator } from '@desk/platform';
import { AgentRunService, type RunResult } from './agent-run.service';

@Processor(QueueName.AgentSchedule)
export class AgentRunProcessor extends WorkerHost {
  constructor(
    @Inject(JobValidator) private readonly jobs: JobValidator,
    @Inject(AgentRunService) private readonly runs: AgentRunService,
  ) {
    super();
  }

  async process(job: Job): Promise<RunResult> {
    const run = await this.jobs.parse(JobName.AgentRun, job);
    return this.jobs.verified(job, () => this.runs.scheduled(run, String(job.id)));
  }
}
