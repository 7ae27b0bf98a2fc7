import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AuditAction, type Actor } from '@desk/contracts';
import { Outbox } from '@desk/platform';
import { Role } from '../access/role';
import { OperatorsRepository } from '../operators/operators.repository';
import { ApiKeysService, type IssuedKey } from './api-keys.service';

export const CONSOLE_ACTOR: Actor = { type: 'service', id: 'gateway-console' };

/**
 * The first admin key of a fresh install, for the person at the console: created only while no active
 * admin key exists (so it cannot mint a second admin behind anyone's back), audited like any key.
 */
@Injectable()
export class BootstrapService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(OperatorsRepository) private readonly operators: OperatorsRepository,
    @Inject(ApiKeysService) private readonly keys: ApiKeysService,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  /**
   * `deliver` runs inside the transaction: if the key cannot be handed over (a file cannot be written), no
   * key is created, so nobody is left with an admin key that no one holds.
   */
  async bootstrapAdmin(name: string, deliver: (issued: IssuedKey) => void): Promise<IssuedKey | undefined> {
    return this.db.transaction(async (tx) => {
      await this.operators.lockAdminChanges(tx);
      if ((await this.operators.activeAdminKeysExcept(tx, {})) > 0) return undefined;
      const correlationId = `bootstrap-${randomUUID()}`;
      const existing: { id: string }[] = await tx.query(
        `SELECT id FROM gateway.operators WHERE name = $1 AND status = 'active'`,
        [name],
      );
      let operatorId = existing[0]?.id;
      if (!operatorId) {
        const created = await this.operators.insert(tx, {
          id: randomUUID(),
          name,
          createdBy: CONSOLE_ACTOR.id,
        });
        if (!created)
          throw new Error(`an operator named "${name}" exists but is disabled; choose another name`);
        operatorId = created.id;
        await this.outbox.addAudit(tx, {
          actor: CONSOLE_ACTOR,
          action: AuditAction.OperatorCreated,
          subject: { type: 'operator', id: operatorId },
          payload: { name, bootstrap: true },
          correlationId,
        });
      }
      const issued = await this.keys.issue(
        tx,
        { actor: CONSOLE_ACTOR, correlationId },
        { operatorId, roles: [Role.Admin], label: 'bootstrap admin key', expiresAt: null },
        { bootstrap: true },
      );
      deliver(issued);
      return issued;
    });
  }
}
