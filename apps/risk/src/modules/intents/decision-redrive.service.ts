import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { JobName, RiskReasonCode, SCHEMA_VERSION, money, toWire } from '@desk/contracts';
import { JobPublisher, RedriveSweep } from '@desk/platform';
import { RISK_CONFIG, type RiskConfig } from '../../config';
import { VenuesRepository } from '../state/venues.repository';
import { DecisionRedriveRepository } from './decision-redrive.repository';

const BATCH = 200;

/**
 * Nothing risk decided is lost on the way on: an accepted order (risk's own closing orders included) that
 * execution has not recorded, and a held order the gateway opened no approval request for, after
 * REDRIVE_AFTER_MS, are sent again under the same job id.
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
    @Inject(VenuesRepository) private readonly venues: VenuesRepository,
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

  /** One pass: how many jobs were sent again. */
  async redrive(): Promise<number> {
    let sent = 0;
    // Held orders the gateway never opened a request for: the same request again (the gateway checks it
    // against risk.approval_holds: actor, parameters, notional and reference price).
    const held = await this.repository.heldNotRequested(this.config.REDRIVE_AFTER_MS, BATCH);
    const liveVenue = held.length ? await this.venues.anyLive() : false;
    for (const h of held) {
      const outcome = await this.jobs.redrive(JobName.ApprovalRequested, {
        schemaVersion: SCHEMA_VERSION,
        correlationId: h.correlationId,
        intentId: h.intentId,
        actor: h.actor,
        order: h.order,
        reasonCode: RiskReasonCode.ApprovalRequired,
        context: {
          threshold: toWire(money(this.config.APPROVAL_NOTIONAL_THRESHOLD)),
          ...(h.notional ? { notional: toWire(money(h.notional)) } : {}),
          ...(h.referencePrice ? { referencePrice: toWire(money(h.referencePrice)) } : {}),
          liveVenue,
        },
        requestedAt: h.decidedAt.toISOString(),
      });
      if (outcome !== 'present') sent += 1;
    }
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
