import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { JobName, SCHEMA_VERSION } from '@desk/contracts';
import { JobPublisher, RedriveSweep } from '@desk/platform';
import { RISK_CONFIG, type RiskConfig } from '../../config';
import { DecisionRedriveRepository } from './decision-redrive.repository';

const BATCH = 200;

/**
 * Nothing risk accepted is lost on the way to execution: an accepted order (risk's own closing orders
 * included) that execution has not recorded after REDRIVE_AFTER_MS is sent again under the same job id.
 * Execution records each order once, so sending again is harmless; until it does, the order counts as
 * pending exposure, which is what it is.
 */
@Injectable()
export class DecisionRedriveService implements OnApplicationShutdown {
  private readonly sweep: RedriveSweep;

  constructor(
    @Inject(DecisionRedriveRepository) private readonly repository: DecisionRedriveRepository,
    @Inject(JobPublisher) private readonly jobs: JobPublisher,
    @Inject(RISK_CONFIG) private readonly config: RiskConfig,
  ) {
    this.sweep = new RedriveSweep('DecisionRedrive', config.REDRIVE_INTERVAL_MS, () => this.redrive());
  }

  /** Started and stopped by LeaderDutiesService: only the writer instance sweeps (docs/adr/0015). */
  start(): void {
    this.sweep.start();
  }

  stop(): Promise<void> {
    return this.sweep.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sweep.stop();
  }

  /** One pass: how many orders were sent again. */
  async redrive(): Promise<number> {
    let sent = 0;
    for (const a of await this.repository.acceptedNotRecorded(this.config.REDRIVE_AFTER_MS, BATCH)) {
      const outcome = await this.jobs.redrive(JobName.OrderAccepted, {
        schemaVersion: SCHEMA_VERSION,
        correlationId: a.correlationId,
        intentId: a.intentId,
        actor: a.actor,
        order: a.order,
        acceptedAt: a.decidedAt.toISOString(),
        ...(a.approvalId ? { approvalId: a.approvalId } : {}),
        ...(a.reduceOnly ? { reduceOnly: true } : {}),
      });
      if (outcome !== 'present') sent += 1;
    }
    return sent;
  }
}
