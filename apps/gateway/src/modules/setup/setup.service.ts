import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AuditAction, type Actor } from '@desk/contracts';
import { AppError, ErrorCode, Outbox } from '@desk/platform';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';
import { CredentialCache } from '../credentials/credential-cache.service';
import { SetupRepository, type SetupPhase, type SetupRecord } from './setup.repository';

export interface SetupView {
  phase: SetupPhase;
  openedAt: string;
  closedAt: string | null;
  closedBy: string | null;
  /** What the phase means for the two-man rule, in words. */
  rule: string;
}

const RULES: Record<SetupPhase, string> = {
  bootstrap:
    'the desk is being set up: admins create operators and grant keys without approval, and no approval ' +
    'counts until an admin closes setup (POST /v1/setup/close)',
  operational:
    'setup is closed for good: creating an operator and granting any role beyond viewer need the two-man rule',
};

/**
 * The desk's setup phase (docs/adr/0011). A new desk starts in `bootstrap`: its first admin creates the first
 * operators and grants their keys alone, because nobody could approve yet; meanwhile no approval counts,
 * so nothing critical can be released by keys minted that way. An admin closes the phase once enough other
 * operators hold approver keys to approve anything the closer asks for; it never reopens.
 */
@Injectable()
export class SetupService {
  /**
   * The phase as shown, from memory while the gateway listens for its change (it changes once in a desk's
   * life); one frozen view shared by every who-am-I answer until then.
   */
  private readonly current: () => Promise<Readonly<SetupView>>;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(SetupRepository) private readonly setup: SetupRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(CredentialCache) private readonly cache: CredentialCache,
  ) {
    const read = cache.memo(async () => Object.freeze(toView(await this.setup.read())));
    this.current = () => read('phase');
  }

  /** For display only: a decision reads the phase in its own transaction (isBootstrap). */
  view(): Promise<Readonly<SetupView>> {
    return this.current();
  }

  /** Whether the bootstrap rules apply to a change in `tx` (share-locks the phase until `tx` ends). */
  async isBootstrap(tx: EntityManager): Promise<boolean> {
    return (await this.setup.read(tx, 'share')).phase === 'bootstrap';
  }

  /** Refuses while the desk is in setup: nothing critical is released by keys granted without approval. */
  async requireOperational(tx: EntityManager): Promise<void> {
    if (await this.isBootstrap(tx)) {
      throw new AppError(
        ErrorCode.Conflict,
        'the desk is still in setup: no approval counts until an admin closes setup (POST /v1/setup/close)',
      );
    }
  }

  /**
   * Ends the setup phase, once, audited. Refused unless at least APPROVAL_REQUIRED_APPROVALS operators other
   * than the closer hold an approver key: otherwise the desk could never approve what the closer asks.
   */
  async close(actor: Actor, correlationId: string): Promise<SetupView> {
    const closed = await this.db.transaction(async (tx) => {
      const current = await this.setup.read(tx, 'update');
      if (current.phase === 'operational') return current;
      const approvers = await this.setup.approversExcept(tx, actor.type === 'operator' ? actor.id : null);
      const required = this.config.APPROVAL_REQUIRED_APPROVALS;
      if (approvers < required) {
        throw new AppError(
          ErrorCode.Conflict,
          `setup can close once ${required} operator(s) other than you hold an active approver key; ` +
            `${approvers} do`,
        );
      }
      const record = await this.setup.close(tx, actor.id);
      await this.outbox.addAudit(tx, {
        actor,
        action: AuditAction.SetupClosed,
        subject: { type: 'desk', id: 'setup' },
        payload: { approvers, requiredApprovals: required, openedAt: record.openedAt.toISOString() },
        correlationId,
      });
      return record;
    });
    this.cache.invalidate();
    void this.outbox.flush();
    return toView(closed);
  }
}

function toView(r: SetupRecord): SetupView {
  return {
    phase: r.phase,
    openedAt: r.openedAt.toISOString(),
    closedAt: r.closedAt ? r.closedAt.toISOString() : null,
    closedBy: r.closedBy,
    rule: RULES[r.phase],
  };
}
