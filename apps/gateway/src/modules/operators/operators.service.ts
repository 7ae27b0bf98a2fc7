import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AuditAction, type Actor } from '@desk/contracts';
import { AppError, ErrorCode, Outbox } from '@desk/platform';
import type { AuthenticatedRequest } from '../../http/request-context';
import { parseInput } from '../../http/zod-input';
import { IdempotencyService, type IdempotentResponse } from '../idempotency/idempotency.service';
import { createOperatorSchema, type OperatorView } from './operators.dto';
import { OperatorsRepository, type OperatorRecord } from './operators.repository';
import { UUID_RE } from '../../http/uuid';

export interface Command {
  actor: Actor;
  idempotencyKey: string | undefined;
  correlationId: string;
}

/** Operators: the people behind the keys. Every change is audited in the same transaction. */
@Injectable()
export class OperatorsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(OperatorsRepository) private readonly operators: OperatorsRepository,
    @Inject(IdempotencyService) private readonly idempotency: IdempotencyService,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  async create(command: Command, body: unknown): Promise<IdempotentResponse> {
    IdempotencyService.checkKey(command.idempotencyKey, false);
    const input = parseInput(createOperatorSchema, body);
    return this.idempotency.execute(
      {
        actorId: command.actor.id,
        key: command.idempotencyKey,
        required: false,
        method: 'POST',
        path: '/v1/operators',
        canonicalBody: input,
      },
      async (tx) => {
        const operator = await this.operators.insert(tx, {
          id: randomUUID(),
          name: input.name,
          createdBy: command.actor.id,
        });
        if (!operator) throw new AppError(ErrorCode.Conflict, 'an operator with this name already exists');
        await this.outbox.addAudit(tx, {
          actor: command.actor,
          action: AuditAction.OperatorCreated,
          subject: { type: 'operator', id: operator.id },
          payload: { name: operator.name },
          correlationId: command.correlationId,
        });
        return { status: 201, body: toView(operator) };
      },
    );
  }

  async list(): Promise<{ items: OperatorView[] }> {
    return { items: (await this.operators.list()).map(toView) };
  }

  /** Disabling is final for every key of the operator, at once. The last operator with an admin key stays. */
  async disable(command: Command, id: string): Promise<IdempotentResponse> {
    IdempotencyService.checkKey(command.idempotencyKey, false);
    if (!UUID_RE.test(id)) throw AppError.notFound('operator');
    return this.idempotency.execute(
      {
        actorId: command.actor.id,
        key: command.idempotencyKey,
        required: false,
        method: 'POST',
        path: `/v1/operators/${id}/disable`,
        canonicalBody: {},
      },
      async (tx) => {
        // Serialise admin-affecting changes, so two concurrent requests cannot remove the last admin together.
        await this.operators.lockAdminChanges(tx);
        const existing = await this.operators.find(id, tx);
        if (!existing) throw AppError.notFound('operator');
        if (existing.status === 'disabled') return { status: 200, body: toView(existing) };
        if ((await this.operators.activeAdminKeysExcept(tx, { operatorId: id })) === 0) {
          throw new AppError(ErrorCode.Conflict, 'this would leave no operator with an active admin key');
        }
        const disabled = await this.operators.disable(tx, id);
        if (!disabled) throw AppError.notFound('operator');
        await this.outbox.addAudit(tx, {
          actor: command.actor,
          action: AuditAction.OperatorDisabled,
          subject: { type: 'operator', id },
          payload: { name: disabled.name },
          correlationId: command.correlationId,
        });
        return { status: 200, body: toView(disabled) };
      },
    );
  }

  async whoAmI(request: AuthenticatedRequest) {
    const actor = request.actor;
    if (!actor) throw new AppError(ErrorCode.Unauthorized, 'missing or invalid API key');
    const operator = await this.operators.find(actor.id);
    if (!operator) throw new AppError(ErrorCode.Unauthorized, 'missing or invalid API key');
    return {
      operator: { id: operator.id, name: operator.name, status: operator.status },
      keyId: actor.keyId,
      roles: request.roles ?? [],
      expiresAt: request.keyExpiresAt ? request.keyExpiresAt.toISOString() : null,
    };
  }
}

export function toView(o: OperatorRecord): OperatorView {
  return {
    id: o.id,
    name: o.name,
    status: o.status,
    createdAt: o.createdAt.toISOString(),
    createdBy: o.createdBy,
    disabledAt: o.disabledAt ? o.disabledAt.toISOString() : null,
  };
}
