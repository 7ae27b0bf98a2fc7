import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { ApprovalKind, AuditAction } from '@desk/contracts';
import { AppError, ErrorCode, Outbox } from '@desk/platform';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';
import { parseInput } from '../../http/zod-input';
import { generateApiKey, type NewApiKey } from '../access/api-key';
import { Role } from '../access/role';
import { ApprovalExecutor, requesterOf, type ActionOf } from '../approvals/approval-executor';
import type { ApprovalRecord } from '../approvals/approvals.repository';
import { ApprovalsService } from '../approvals/approvals.service';
import {
  IdempotencyService,
  type IdempotentResponse,
  type WorkResult,
} from '../idempotency/idempotency.service';
import type { Command } from '../operators/operators.service';
import { OperatorsRepository } from '../operators/operators.repository';
import { ApiKeysRepository, type ApiKeyRecord } from './api-keys.repository';
import { createKeySchema, listKeysQuerySchema, rotateKeySchema, type KeyView } from './keys.dto';
import { UUID_RE } from '../../http/uuid';

const KEY_ID_RE = /^kid_[0-9a-f]{16}$/;
const SHOWN_ONCE = 'store this key now: it is shown only once and cannot be recovered';

export interface IssuedKey extends KeyView {
  key: string;
  notice: string;
}

/** An admin key held for the two-man rule: the key is handed over now and works once approved. */
export interface PendingKey {
  status: 'pending_approval';
  approvalId: string;
  requiredApprovals: number;
  expiresAt: string;
  keyId: string;
  operatorId: string;
  roles: Role[];
  label: string;
  keyExpiresAt: string | null;
  rotatedFrom: string | null;
  key: string;
  notice: string;
}

type AdminKeyAction = ActionOf<ApprovalKind.AdminKey>;

/**
 * API keys: issued to an operator with roles, shown once, stored as a digest; revoked or rotated by an
 * admin. Every change is audited (with the key id, never the key) in the same transaction.
 *
 * Creating or rotating an admin key is critical (two-man rule): the key is generated and shown to the
 * requester at once, but only its digest goes into the approval request, and the key exists (works) only
 * once enough approvers agree. So the key is never stored, and no single admin can mint another admin.
 */
@Injectable()
export class ApiKeysService implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(ApiKeysRepository) private readonly keys: ApiKeysRepository,
    @Inject(OperatorsRepository) private readonly operators: OperatorsRepository,
    @Inject(IdempotencyService) private readonly idempotency: IdempotencyService,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(ApprovalsService) private readonly approvals: ApprovalsService,
    @Inject(ApprovalExecutor) private readonly executor: ApprovalExecutor,
  ) {}

  onModuleInit(): void {
    this.executor.register(ApprovalKind.AdminKey, (tx, r, action) => this.releaseAdminKey(tx, r, action));
  }

  async create(command: Command, operatorId: string, body: unknown): Promise<IdempotentResponse> {
    IdempotencyService.checkKey(command.idempotencyKey, false);
    if (!UUID_RE.test(operatorId)) throw AppError.notFound('operator');
    const input = parseInput(createKeySchema, body);
    return this.idempotency.execute(
      {
        actorId: command.actor.id,
        key: command.idempotencyKey,
        required: false,
        method: 'POST',
        path: `/v1/operators/${operatorId}/keys`,
        canonicalBody: input,
      },
      async (tx): Promise<WorkResult<IssuedKey | PendingKey>> => {
        const k = {
          operatorId,
          roles: input.roles,
          label: input.label ?? 'api key',
          expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
        };
        if (k.roles.includes(Role.Admin)) {
          const pending = await this.requestAdminKey(tx, command, { operation: 'create', ...k });
          return { status: 202, body: pending, storedBody: withoutSecret(pending) };
        }
        const issued = await this.issue(tx, command, k);
        return { status: 201, body: issued, storedBody: withoutSecret(issued) };
      },
    );
  }

  /** Creates a key inside a transaction; also used by the console bootstrap. */
  async issue(
    tx: EntityManager,
    command: Pick<Command, 'actor' | 'correlationId'>,
    k: { operatorId: string; roles: readonly Role[]; label: string; expiresAt: Date | null },
    action: AuditAction = AuditAction.KeyCreated,
    extra: Record<string, unknown> = {},
  ): Promise<IssuedKey> {
    await this.activeOperator(tx, k.operatorId);
    const { key, keyId, digest } = generateApiKey();
    const record = await this.keys.insert(tx, {
      id: keyId,
      operatorId: k.operatorId,
      digest,
      roles: [...k.roles].sort(),
      label: k.label,
      expiresAt: k.expiresAt,
      createdBy: command.actor.id,
    });
    await this.outbox.addAudit(tx, {
      actor: command.actor,
      action,
      subject: { type: 'key', id: keyId },
      payload: {
        operatorId: k.operatorId,
        roles: record.roles,
        label: record.label,
        expiresAt: record.expiresAt?.toISOString() ?? null,
        ...extra,
      },
      correlationId: command.correlationId,
    });
    return { ...toView(record), key, notice: SHOWN_ONCE };
  }

  /**
   * Holds an admin key for two approvers: generates it, puts its digest (never the key) in the approval
   * request, and hands the key to the requester now; it authenticates nothing until the request executes.
   */
  private async requestAdminKey(
    tx: EntityManager,
    command: Pick<Command, 'actor' | 'correlationId'>,
    k: AdminKeyRequest,
  ): Promise<PendingKey> {
    await this.activeOperator(tx, k.operatorId);
    const generated: NewApiKey = generateApiKey();
    const action: AdminKeyAction = {
      operation: k.operation,
      operatorId: k.operatorId,
      roles: [...k.roles].sort(),
      label: k.label,
      expiresAt: k.expiresAt ? k.expiresAt.toISOString() : null,
      keyId: generated.keyId,
      digest: generated.digest.toString('hex'),
      ...(k.rotatedFrom ? { rotatedFrom: k.rotatedFrom, overlapSeconds: k.overlapSeconds ?? 0 } : {}),
    };
    const request = await this.approvals.request(tx, {
      kind: ApprovalKind.AdminKey,
      subjectId: generated.keyId,
      action,
      context: {
        operation: k.operation,
        operatorId: k.operatorId,
        roles: action.roles,
        label: k.label,
        keyExpiresAt: action.expiresAt,
        ...(k.rotatedFrom ? { rotatedFrom: k.rotatedFrom, overlapSeconds: action.overlapSeconds } : {}),
      },
      requester: command.actor,
      correlationId: command.correlationId,
    });
    if (!request) throw new Error('admin key request was not created');
    return {
      status: 'pending_approval',
      approvalId: request.id,
      requiredApprovals: request.requiredApprovals,
      expiresAt: request.expiresAt.toISOString(),
      keyId: generated.keyId,
      operatorId: k.operatorId,
      roles: action.roles,
      label: k.label,
      keyExpiresAt: action.expiresAt,
      rotatedFrom: k.rotatedFrom ?? null,
      key: generated.key,
      notice:
        `store this key now: it is shown only once. It works only after ${request.requiredApprovals} ` +
        `approver(s) approve request ${request.id} (before ${request.expiresAt.toISOString()}).`,
    };
  }

  /**
   * Quorum on an admin key request: the key starts to work (and, for a rotation, the old one is retired),
   * unless what was approved can no longer be done as approved. Checks everything before it writes.
   */
  private async releaseAdminKey(
    tx: EntityManager,
    r: ApprovalRecord,
    a: AdminKeyAction,
  ): Promise<string | undefined> {
    const operator = await this.operators.find(a.operatorId, tx);
    if (operator?.status !== 'active') return `operator ${a.operatorId} is no longer active`;
    if (await this.keys.find(a.keyId, tx)) return `key ${a.keyId} already exists`;
    if (a.operation === 'rotate') {
      const old = a.rotatedFrom ? await this.keys.lockForUpdate(tx, a.rotatedFrom) : undefined;
      if (!old || old.status !== 'active' || old.rotatedTo) {
        return `key ${a.rotatedFrom ?? '(none)'} is no longer an active key that was not rotated`;
      }
    }
    const actor = requesterOf(r);
    const record = await this.keys.insert(tx, {
      id: a.keyId,
      operatorId: a.operatorId,
      digest: Buffer.from(a.digest, 'hex'),
      roles: a.roles,
      label: a.label,
      expiresAt: a.expiresAt ? new Date(a.expiresAt) : null,
      createdBy: r.requester.id,
    });
    let extra: Record<string, unknown> = {};
    if (a.operation === 'rotate' && a.rotatedFrom) {
      const overlapSeconds = a.overlapSeconds ?? 0;
      const retired = await this.keys.retire(
        tx,
        a.rotatedFrom,
        a.keyId,
        new Date(Date.now() + overlapSeconds * 1000),
      );
      if (!retired) throw new Error(`key ${a.rotatedFrom} changed while it was locked`);
      extra = { rotatedFrom: a.rotatedFrom, overlapSeconds };
    }
    await this.outbox.addAudit(tx, {
      actor,
      action: a.operation === 'rotate' ? AuditAction.KeyRotated : AuditAction.KeyCreated,
      subject: { type: 'key', id: a.keyId },
      payload: {
        operatorId: a.operatorId,
        roles: record.roles,
        label: record.label,
        expiresAt: record.expiresAt?.toISOString() ?? null,
        approvalId: r.id,
        ...extra,
      },
      correlationId: r.correlationId,
    });
    return undefined;
  }

  private async activeOperator(tx: EntityManager, operatorId: string): Promise<void> {
    const operator = await this.operators.find(operatorId, tx);
    if (!operator) throw AppError.notFound('operator');
    if (operator.status !== 'active') throw new AppError(ErrorCode.Conflict, 'the operator is disabled');
  }

  async list(query: unknown): Promise<{ items: KeyView[] }> {
    const { operatorId } = parseInput(listKeysQuerySchema, query, '(query)');
    return { items: (await this.keys.list(operatorId)).map(toView) };
  }

  async revoke(command: Command, keyId: string): Promise<IdempotentResponse> {
    IdempotencyService.checkKey(command.idempotencyKey, false);
    if (!KEY_ID_RE.test(keyId)) throw AppError.notFound('key');
    return this.idempotency.execute(
      {
        actorId: command.actor.id,
        key: command.idempotencyKey,
        required: false,
        method: 'POST',
        path: `/v1/keys/${keyId}/revoke`,
        canonicalBody: {},
      },
      async (tx) => {
        await this.operators.lockAdminChanges(tx);
        const existing = await this.keys.lockForUpdate(tx, keyId);
        if (!existing) throw AppError.notFound('key');
        if (existing.status === 'revoked') return { status: 200, body: toView(existing) };
        if (
          existing.roles.includes(Role.Admin) &&
          (await this.operators.activeAdminKeysExcept(tx, { keyId })) === 0
        ) {
          throw new AppError(ErrorCode.Conflict, 'this would leave no active admin key');
        }
        const revoked = await this.keys.revoke(tx, keyId, command.actor.id);
        if (!revoked) throw AppError.notFound('key');
        await this.outbox.addAudit(tx, {
          actor: command.actor,
          action: AuditAction.KeyRevoked,
          subject: { type: 'key', id: keyId },
          payload: { operatorId: revoked.operatorId, roles: revoked.roles },
          correlationId: command.correlationId,
        });
        return { status: 200, body: toView(revoked) };
      },
    );
  }

  /** A new key with the same operator and roles; the old one keeps working for the overlap, then expires. */
  async rotate(command: Command, keyId: string, body: unknown): Promise<IdempotentResponse> {
    IdempotencyService.checkKey(command.idempotencyKey, false);
    if (!KEY_ID_RE.test(keyId)) throw AppError.notFound('key');
    const input = parseInput(rotateKeySchema, body ?? {});
    const overlapSeconds = input.overlapSeconds ?? this.config.KEY_ROTATION_OVERLAP_SECONDS;
    return this.idempotency.execute(
      {
        actorId: command.actor.id,
        key: command.idempotencyKey,
        required: false,
        method: 'POST',
        path: `/v1/keys/${keyId}/rotate`,
        canonicalBody: input,
      },
      async (tx): Promise<WorkResult<unknown>> => {
        const old = await this.keys.lockForUpdate(tx, keyId);
        if (!old) throw AppError.notFound('key');
        if (old.status !== 'active' || old.rotatedTo) {
          throw new AppError(
            ErrorCode.Conflict,
            'only an active key that was not rotated yet can be rotated',
          );
        }
        if (old.roles.includes(Role.Admin)) {
          const pending = await this.requestAdminKey(tx, command, {
            operation: 'rotate',
            operatorId: old.operatorId,
            roles: old.roles,
            label: old.label,
            expiresAt: old.expiresAt,
            rotatedFrom: keyId,
            overlapSeconds,
          });
          return { status: 202, body: pending, storedBody: withoutSecret(pending) };
        }
        const issued = await this.issue(
          tx,
          command,
          { operatorId: old.operatorId, roles: old.roles, label: old.label, expiresAt: old.expiresAt },
          AuditAction.KeyRotated,
          { rotatedFrom: keyId, overlapSeconds },
        );
        const retired = await this.keys.retire(
          tx,
          keyId,
          issued.keyId,
          new Date(Date.now() + overlapSeconds * 1000),
        );
        if (!retired) throw new AppError(ErrorCode.Conflict, 'the key changed during rotation; try again');
        const body = { ...issued, previous: toView(retired) };
        return { status: 201, body, storedBody: { ...withoutSecret(issued), previous: toView(retired) } };
      },
    );
  }
}

/** What an admin key request carries before its key is generated. */
interface AdminKeyRequest {
  operation: 'create' | 'rotate';
  operatorId: string;
  roles: readonly Role[];
  label: string;
  expiresAt: Date | null;
  rotatedFrom?: string;
  overlapSeconds?: number;
}

export function toView(k: ApiKeyRecord): KeyView {
  return {
    keyId: k.id,
    operatorId: k.operatorId,
    roles: k.roles,
    label: k.label,
    status: k.status,
    expiresAt: k.expiresAt ? k.expiresAt.toISOString() : null,
    createdAt: k.createdAt.toISOString(),
    createdBy: k.createdBy,
    revokedAt: k.revokedAt ? k.revokedAt.toISOString() : null,
    rotatedTo: k.rotatedTo,
  };
}

/** What an idempotent replay returns: everything but the key, which is never stored. */
function withoutSecret<T extends { key: string; notice: string }>(issued: T): Omit<T, 'key'> & { key: null } {
  return { ...issued, key: null, notice: 'the key was shown only in the first response' };
}
