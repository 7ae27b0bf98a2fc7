import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { ApprovalKind, AuditAction } from '@desk/contracts';
import { AppError, ErrorCode, Outbox } from '@desk/platform';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';
import { parseInput } from '../../http/zod-input';
import { generateApiKey } from '../access/api-key';
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
import { listKeysQuerySchema, registerKeySchema, rotateOwnKeySchema, type KeyView } from './keys.dto';
import { SetupService } from '../setup/setup.service';
import { CredentialCache } from '../credentials/credential-cache.service';
import { UUID_RE } from '../../http/uuid';

const KEY_ID_RE = /^kid_[0-9a-f]{16}$/;
const SHOWN_ONCE = 'store this key now: it is shown only once and cannot be recovered';

export interface IssuedKey extends KeyView {
  key: string;
  notice: string;
}

/** A key grant held for the two-man rule: the key works once enough approvers agree. */
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
}

type KeyGrant = ActionOf<ApprovalKind.KeyGrant>;

/**
 * API keys (docs/adr/0006, 0011). The holder generates a key (`desk key generate`) and keeps it; the
 * desk registers only its id and digest, so no admin ever sees, or can recover, a key that is not their
 * own. A key with any role beyond viewer is a grant under the two-man rule once setup is closed; rotation
 * is done by the holder, with the key being rotated; an admin can revoke any key. Every change is audited
 * (with the key id, never the key) in the same transaction.
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
    @Inject(SetupService) private readonly setup: SetupService,
    @Inject(CredentialCache) private readonly credentials: CredentialCache,
  ) {}

  onModuleInit(): void {
    this.executor.register(ApprovalKind.KeyGrant, (tx, r, action) => this.releaseGrant(tx, r, action));
  }

  /**
   * Registers a key its holder generated. A viewer key, or any key while the desk is in setup, works at
   * once (201); any other key is a grant that works once approved (202).
   */
  async register(command: Command, operatorId: string, body: unknown): Promise<IdempotentResponse> {
    IdempotencyService.checkKey(command.idempotencyKey, false);
    if (!UUID_RE.test(operatorId)) throw AppError.notFound('operator');
    const input = parseInput(registerKeySchema, body);
    return this.idempotency.execute(
      {
        actorId: command.actor.id,
        key: command.idempotencyKey,
        required: false,
        method: 'POST',
        path: `/v1/operators/${operatorId}/keys`,
        canonicalBody: input,
      },
      async (tx): Promise<WorkResult<unknown>> => {
        await this.activeOperator(tx, operatorId);
        if (await this.keys.find(input.keyId, tx)) {
          throw new AppError(ErrorCode.Conflict, 'this key is registered already: generate a new one');
        }
        const grant: KeyGrant = {
          operatorId,
          roles: [...input.roles].sort(),
          label: input.label ?? 'api key',
          expiresAt: input.expiresAt ? new Date(input.expiresAt).toISOString() : null,
          keyId: input.keyId,
          digest: input.digest,
        };
        const bootstrap = await this.setup.isBootstrap(tx);
        if (bootstrap || !isPrivileged(grant.roles)) {
          const record = await this.insert(
            tx,
            command,
            grant,
            AuditAction.KeyCreated,
            bootstrap ? { bootstrap } : {},
          );
          return { status: 201, body: toView(record) };
        }
        const request = await this.approvals.request(tx, {
          kind: ApprovalKind.KeyGrant,
          subjectId: grant.keyId,
          action: grant,
          context: {
            operatorId,
            operatorName: (await this.operators.find(operatorId, tx))?.name ?? null,
            roles: grant.roles,
            label: grant.label,
            keyExpiresAt: grant.expiresAt,
          },
          requester: command.actor,
          correlationId: command.correlationId,
        });
        if (!request) throw new AppError(ErrorCode.Conflict, 'this key is waiting for approval already');
        const pending: PendingKey = {
          status: 'pending_approval',
          approvalId: request.id,
          requiredApprovals: request.requiredApprovals,
          expiresAt: request.expiresAt.toISOString(),
          keyId: grant.keyId,
          operatorId,
          roles: grant.roles,
          label: grant.label,
          keyExpiresAt: grant.expiresAt,
        };
        return { status: 202, body: pending };
      },
    );
  }

  /** Quorum on a key grant: the key starts to work, unless its operator or id changed meanwhile. */
  private async releaseGrant(tx: EntityManager, r: ApprovalRecord, a: KeyGrant): Promise<string | undefined> {
    const operator = await this.operators.find(a.operatorId, tx);
    if (operator?.status !== 'active') return `operator ${a.operatorId} is no longer active`;
    if (await this.keys.find(a.keyId, tx)) return `key ${a.keyId} already exists`;
    await this.insert(
      tx,
      { actor: requesterOf(r), correlationId: r.correlationId },
      a,
      AuditAction.KeyCreated,
      {
        approvalId: r.id,
      },
    );
    return undefined;
  }

  private async insert(
    tx: EntityManager,
    by: Pick<Command, 'actor' | 'correlationId'>,
    k: KeyGrant,
    action: AuditAction,
    extra: Record<string, unknown>,
  ): Promise<ApiKeyRecord> {
    const record = await this.keys.insert(tx, {
      id: k.keyId,
      operatorId: k.operatorId,
      digest: Buffer.from(k.digest, 'hex'),
      roles: k.roles,
      label: k.label,
      expiresAt: k.expiresAt ? new Date(k.expiresAt) : null,
      createdBy: by.actor.id,
    });
    await this.outbox.addAudit(tx, {
      actor: by.actor,
      action,
      subject: { type: 'key', id: k.keyId },
      payload: {
        operatorId: k.operatorId,
        roles: record.roles,
        label: record.label,
        expiresAt: record.expiresAt?.toISOString() ?? null,
        ...extra,
      },
      correlationId: by.correlationId,
    });
    return record;
  }

  /**
   * A key generated here, for the person at the console who receives it: only the bootstrap's first admin
   * key (docs/adr/0011). Every other key is generated by its holder and registered by digest.
   */
  async issue(
    tx: EntityManager,
    command: Pick<Command, 'actor' | 'correlationId'>,
    k: { operatorId: string; roles: readonly Role[]; label: string; expiresAt: Date | null },
    extra: Record<string, unknown> = {},
  ): Promise<IssuedKey> {
    await this.activeOperator(tx, k.operatorId);
    const { key, keyId, digest } = generateApiKey();
    const record = await this.insert(
      tx,
      command,
      {
        operatorId: k.operatorId,
        roles: [...k.roles].sort(),
        label: k.label,
        expiresAt: k.expiresAt ? k.expiresAt.toISOString() : null,
        keyId,
        digest: digest.toString('hex'),
      },
      AuditAction.KeyCreated,
      extra,
    );
    return { ...toView(record), key, notice: SHOWN_ONCE };
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
    const response = await this.idempotency.execute(
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
    // This instance forgets cached credentials at once; the others when the commit is announced.
    this.credentials.invalidate();
    return response;
  }

  /**
   * The holder replaces the key they are using with one they generated: same operator, roles, label and
   * expiry; the old key keeps working for the overlap, then expires. Nobody else can rotate a key.
   */
  async rotateOwn(
    command: Command & { actor: { keyId: string } },
    body: unknown,
  ): Promise<IdempotentResponse> {
    IdempotencyService.checkKey(command.idempotencyKey, false);
    const input = parseInput(rotateOwnKeySchema, body);
    const overlapSeconds = input.overlapSeconds ?? this.config.KEY_ROTATION_OVERLAP_SECONDS;
    const keyId = command.actor.keyId;
    const response = await this.idempotency.execute(
      {
        actorId: command.actor.id,
        key: command.idempotencyKey,
        required: false,
        method: 'POST',
        path: '/v1/me/key/rotate',
        canonicalBody: input,
      },
      async (tx): Promise<WorkResult<unknown>> => {
        const old = await this.keys.lockForUpdate(tx, keyId);
        if (!old || old.status !== 'active' || old.rotatedTo) {
          throw new AppError(ErrorCode.Conflict, 'this key was rotated already: use its replacement');
        }
        if (await this.keys.find(input.keyId, tx)) {
          throw new AppError(ErrorCode.Conflict, 'this key is registered already: generate a new one');
        }
        const record = await this.insert(
          tx,
          command,
          {
            operatorId: old.operatorId,
            roles: old.roles,
            label: old.label,
            expiresAt: old.expiresAt ? old.expiresAt.toISOString() : null,
            keyId: input.keyId,
            digest: input.digest,
          },
          AuditAction.KeyRotated,
          { rotatedFrom: keyId, overlapSeconds },
        );
        const retired = await this.keys.retire(
          tx,
          keyId,
          record.id,
          new Date(Date.now() + overlapSeconds * 1000),
        );
        if (!retired) throw new AppError(ErrorCode.Conflict, 'the key changed during rotation; try again');
        return { status: 201, body: { ...toView(record), previous: toView(retired) } };
      },
    );
    // This instance forgets cached credentials at once; the others when the commit is announced.
    this.credentials.invalidate();
    return response;
  }
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

/** Roles that trade, approve or administer: granting any of them is critical once setup is closed. */
export function isPrivileged(roles: readonly Role[]): boolean {
  return roles.some((r) => r !== Role.Viewer);
}
