import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditAction, ServiceName, serviceActor, toWire, type Actor } from '@desk/contracts';
import { Outbox } from '@desk/platform';
import { RISK_CONFIG, type RiskConfig } from '../../config';
import { changesPayload, limitsFromConfig, type LimitChange } from './limits';
import { BookLockService } from './book-lock.service';
import { LimitsRepository, toValues } from './limits.repository';

/** Rows still at their migration default or last set from configuration follow the environment. */
const FOLLOWS_CONFIG = new Set(['default', 'config']);

/**
 * The limits' lifecycle. The environment gives each limit its initial value: at boot, a limit nobody has
 * changed yet takes the configured value. Once a person changes a limit (control command), the table is
 * the truth and the environment no longer applies to it (a difference is logged). Only the writer applies
 * its environment, when it is elected (docs/adr/0015): a standby's values apply if it takes over.
 */
@Injectable()
export class LimitsService {
  private readonly logger = new Logger(LimitsService.name);

  constructor(
    @Inject(RISK_CONFIG) private readonly config: RiskConfig,
    @Inject(LimitsRepository) private readonly repository: LimitsRepository,
    @Inject(BookLockService) private readonly book: BookLockService,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  /** Limits nobody changed take the configured values (the new leader's environment). */
  async applyConfigured(): Promise<void> {
    const configured = limitsFromConfig(this.config);
    const changes = await this.repository.transaction(async (tx) => {
      await this.book.hold(tx);
      const rows = await this.repository.rows(tx, true);
      const current = toValues(rows);
      const changes: LimitChange[] = [];
      for (const row of rows) {
        const to = configured[row.name];
        if (to.eq(current[row.name])) continue;
        if (FOLLOWS_CONFIG.has(row.updatedBy)) changes.push({ name: row.name, from: current[row.name], to });
        else
          this.logger.warn(
            { limit: row.name, table: row.value, environment: toWire(to), updatedBy: row.updatedBy },
            'limit was changed through the API; the environment value is ignored',
          );
      }
      if (changes.length)
        await this.apply(
          tx,
          changes,
          serviceActor(ServiceName.Risk),
          'config',
          'from the environment at boot',
          'boot',
        );
      return changes;
    });
    if (changes.length) void this.outbox.flush();
  }

  /** Writes the new values and their audit event (old and new values) in the caller's transaction. */
  async apply(
    tx: EntityManager,
    changes: readonly LimitChange[],
    actor: Actor,
    updatedBy: string,
    reason: string,
    correlationId: string,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    await this.repository.update(tx, changes, updatedBy);
    await this.outbox.addAudit(tx, {
      actor,
      action: AuditAction.RiskLimitsChanged,
      subject: { type: 'risk-limits', id: 'desk' },
      payload: { changes: changesPayload(changes), reason, ...extra },
      correlationId,
    });
  }
}
