import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { CredentialCache } from '../credentials/credential-cache.service';
import type { DataSource, EntityManager } from 'typeorm';
import { ApprovalKind, AuditAction, type Actor } from '@desk/contracts';
import { AppError, ErrorCode, Outbox } from '@desk/platform';
import type { AuthenticatedRequest } from '../../http/request-context';
import { parseInput } from '../../http/zod-input';
import { ApprovalExecutor, requesterOf, type ActionOf } from '../approvals/approval-executor';
import type { ApprovalRecord } from '../approvals/approvals.repository';
import { ApprovalsService } from '../approvals/approvals.service';
import {
  IdempotencyService,
  type IdempotentResponse,
  type WorkResult,
} from '../idempotency/idempotency.service';
import { SetupService } from '../setup/setup.service';
import { createOperatorSchema, type OperatorView } from './operators.dto';
import { OperatorsRepository, type OperatorRecord } from './operators.repository';
import { UUID_RE } from '../../http/uuid';

export interface Command {
  actor: Actor;
  idempotencyKey: string | undefined;
  correlationId: string;
}

/** An operator held for the two-man rule: it exists once enough approvers agree. */
export interface PendingOperator {
  status: 'pending_approval';
  approvalId: string;
  requiredApprovals: number;
  expiresAt: string;
  operatorId: string;
  name: string;
}

/** Operators: the people behind the keys. Every change is audited in the same transaction. */
@Injectable()
export class OperatorsService implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(OperatorsRepository) private readonly operators: OperatorsRepository,
    @Inject(IdempotencyService) private readonly idempotency: IdempotencyService,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(ApprovalsService) private readonly approvals: ApprovalsService,
    @Inject(ApprovalExecutor) private readonly executor: ApprovalExecutor,
    @Inject(SetupService) private readonly setup: SetupService,
    @Inject(CredentialCache) private readonly credentials: CredentialCache,
  ) {}

  onModuleInit(): void {
    this.executor.register(ApprovalKind.OperatorCreate, (tx, r, action) => this.release(tx, r, action));
  }

  /**
   * A new operator. While the desk is in setup it is created at once (audited as such); afterwards it is a
   * critical action: the operator exists only once enough approvers agree (202 with the approval request).
   */
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
      async (tx): Promise<WorkResult<unknown>> => {
        const bootstrap = await this.setup.isBootstrap(tx);
        if (await this.operators.findByName(tx, input.name)) {
          throw new AppError(ErrorCode.Conflict, 'an operator with this name already exists');
        }
        const operatorId = randomUUID();
        if (!bootstrap) {
          const request = await this.approvals.request(tx, {
            kind: ApprovalKind.OperatorCreate,
            subjectId: operatorId,
            action: { operatorId, name: input.name },
            context: { name: input.name },
            requester: command.actor,
            correlationId: command.correlationId,
          });
          if (!request) throw new Error('operator request was not created');
          const pending: PendingOperator = {
            status: 'pending_approval',
            approvalId: request.id,
            requiredApprovals: request.requiredApprovals,
            expiresAt: request.expiresAt.toISOString(),
            operatorId,
            name: input.name,
          };
          return { status: 202, body: pending };
        }
        const operator = await this.insert(
          tx,
          command,
          { operatorId, name: input.name },
          { bootstrap: true },
        );
        if (!operator) throw new AppError(ErrorCode.Conflict, 'an operator with this name already exists');
        return { status: 201, body: toView(operator) };
      },
    );
  }

  /** Quorum on a new operator: created unless the name was taken meanwhile. */
  private async release(
    tx: EntityManager,
    r: ApprovalRecord,
    a: ActionOf<ApprovalKind.OperatorCreate>,
  ): Promise<string | undefined> {
    const created = await this.insert(tx, { actor: requesterOf(r), correlationId: r.correlationId }, a, {
      approvalId: r.id,
    });
    return created ? undefined : `an operator named "${a.name}" exists already`;
  }

  private async insert(
    tx: EntityManager,
    by: Pick<Command, 'actor' | 'correlationId'>,
    o: { operatorId: string; name: string },
    extra: Record<string, unknown>,
  ): Promise<OperatorRecord | undefined> {
    const operator = await this.operators.insert(tx, {
      id: o.operatorId,
      name: o.name,
      createdBy: by.actor.id,
    });
    if (!operator) return undefined;
    await this.outbox.addAudit(tx, {
      actor: by.actor,
      action: AuditAction.OperatorCreated,
      subject: { type: 'operator', id: operator.id },
      payload: { name: operator.name, ...extra },
      correlationId: by.correlationId,
    });
    return operator;
  }

  async list(): Promise<{ items: OperatorView[] }> {
    return { items: (await this.operators.list()).map(toView) };
  }

  /** Disabling is final for every key of the operator, at once. The last operator with an admin key stays. */
  async disable(command: Command, id: string): Promise<IdempotentResponse> {
    IdempotencyService.checkKey(command.idempotencyKey, false);
    if (!UUID_RE.test(id)) throw AppError.notFound('operator');
    const response = await this.idempotency.execute(
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
    // This instance forgets cached credentials at once; the others when the commit is announced.
    this.credentials.invalidate();
    return response;
  }

  async whoAmI(request: AuthenticatedRequest) {
    const { actor, operatorName } = request;
    if (!actor || operatorName === undefined) {
      throw new AppError(ErrorCode.Unauthorized, 'missing or invalid API key');
    }
    return {
      // As authentication found it: an operator who is not active has no key that works.
      operator: { id: actor.id, name: operatorName, status: 'active' as const },
      keyId: actor.keyId,
      roles: request.roles ?? [],
      expiresAt: request.keyExpiresAt ? request.keyExpiresAt.toISOString() : null,
      setup: await this.setup.view(),
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
