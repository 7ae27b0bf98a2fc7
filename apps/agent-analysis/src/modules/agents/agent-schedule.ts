import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { JobName, QueueName, SCHEMA_VERSION, type AgentRun } from '@desk/contracts';
import { AGENT_ANALYSIS_CONFIG, type AgentAnalysisConfig } from '../../config';
import { AGENT_SCHEDULER_ID, SCHEDULED_RUN_CORRELATION } from './agent-run.service';

/** Registers (or updates) the BullMQ job scheduler that fires an agent run every AGENT_SCHEDULE_MS. */
@Injectable()
export class AgentSchedule implements OnApplicationBootstrap {
  private readonly logger = new Logger(AgentSchedule.name);

  constructor(
    @InjectQueue(QueueName.AgentSchedule) private readonly queue: Queue,
    @Inject(AGENT_ANALYSIS_CONFIG) private readonly config: AgentAnalysisConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const data: AgentRun = { schemaVersion: SCHEMA_VERSION, correlationId: SCHEDULED_RUN_CORRELATION };
    await this.queue.upsertJobScheduler(
      AGENT_SCHEDULER_ID,
      { every: this.config.AGENT_SCHEDULE_MS },
      {
        name: JobName.AgentRun,
        data,
        // A failed run is not retried: the next scheduled run comes soon with fresher data.
        opts: { attempts: 1, removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } },
      },
    );
    this.logger.log(
      { everyMs: this.config.AGENT_SCHEDULE_MS, feed: this.config.MARKET_FEED },
      'agent runs scheduled',
    );
  }
}
