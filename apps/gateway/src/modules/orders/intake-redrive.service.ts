import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import {
  ControlCommandKind,
  IntentSource,
  JobName,
  SCHEMA_VERSION,
  controlCommandSchema,
} from '@desk/contracts';
import { JobPublisher, RedriveSweep } from '@desk/platform';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';
import { IntakeRedriveRepository } from './intake-redrive.repository';

const BATCH = 200;

/**
 * Nothing the gateway accepted is lost on the way to risk: an order (answered 202) or a control command
 * (a kill above all) that risk has not recorded after REDRIVE_AFTER_MS is sent again, under the same job
 * id (re-added if Redis lost it, retried if it ended failed). Risk records each once, so sending again is
 * harmless.
 */
@Injectable()
export class IntakeRedriveService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(IntakeRedriveService.name);
  private readonly sweep: RedriveSweep;

  constructor(
    @Inject(IntakeRedriveRepository) private readonly repository: IntakeRedriveRepository,
    @Inject(JobPublisher) private readonly jobs: JobPublisher,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.sweep = new RedriveSweep('IntakeRedrive', config.REDRIVE_INTERVAL_MS, () => this.redrive());
  }

  onApplicationBootstrap(): void {
    this.sweep.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sweep.stop();
  }

  /** One pass: how many jobs were sent again. */
  async redrive(): Promise<number> {
    let sent = 0;
    // Commands first: a kill that never arrived matters more than any order.
    for (const c of await this.repository.commands(this.config.REDRIVE_AFTER_MS, BATCH)) {
      const parsed = controlCommandSchema.safeParse({
        schemaVersion: SCHEMA_VERSION,
        commandId: c.commandId,
        command: c.command as ControlCommandKind,
        actor: c.actor,
        reason: c.reason,
        issuedAt: c.createdAt.toISOString(),
        correlationId: c.correlationId,
        ...(c.flatten ? { flatten: true } : {}),
        ...(c.limits ? { limits: c.limits } : {}),
        ...(c.venue ? { venue: c.venue } : {}),
        ...(c.approvalId ? { approvalId: c.approvalId } : {}),
        ...(c.stateVersion ? { stateVersion: c.stateVersion } : {}),
        ...(c.limitsVersion ? { limitsVersion: c.limitsVersion } : {}),
      });
      // A record that no longer makes a valid command must not stall the sweep for every later one.
      if (!parsed.success) {
        this.logger.error({ commandId: c.commandId }, 'recorded control command is not a valid command');
        continue;
      }
      if ((await this.jobs.redrive(JobName.ControlCommand, parsed.data)) !== 'present') sent += 1;
    }
    for (const s of await this.repository.submissions(this.config.REDRIVE_AFTER_MS, BATCH)) {
      const outcome = await this.jobs.redrive(JobName.IntentSubmitted, {
        schemaVersion: SCHEMA_VERSION,
        intentId: s.id,
        correlationId: s.correlationId,
        source: IntentSource.Operator,
        actor: s.actor,
        order: s.order,
        submittedAt: s.submittedAt.toISOString(),
      });
      if (outcome !== 'present') sent += 1;
    }
    return sent;
  }
}
