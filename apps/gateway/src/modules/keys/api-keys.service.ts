import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AuditAction } from '@desk/contracts';
import { AppError, ErrorCode, Outbox } from '@desk/platform';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';
import { parseInput } from '../../http/zod-input';
import { generateApiKey } from '../access/api-key';
import { Role } from '../access/role';
import { IdempotencyService, type IdempotentResponse } from '../idempotency/idempotency.service';
import type { Command } from '../operators/operators.service';
import { OperatorsRepository } from '../operators/operators.repository';
import { ApiKeysRepository, type ApiKeyRecord } from './api-keys.repository';
import { createKeySchema, listKeysQuerySchema, rotateKeySchema, type KeyView } from './keys.dto';

const KEY_ID_RE = /^kid_[0-9a-f]{16}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SHOWN_ONCE = 'store this key now: it is shown only once and cannot be recovered';

export interface IssuedKey extends KeyView {
  key: string;
  notice: string;
}

/**
 * API keys: issued to an operator with roles, shown once, stored as a digest; revoked or rotated by an
 * admin. Every change is audited (with the key id, never the key) in the same transaction.
 */
@Injectable()
export class ApiKeysService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(ApiKeysRepository) private readonly keys: ApiKeysRepository,
    @Inject(OperatorsRepository) private readonly operators: OperatorsRepository,
    @Inject(IdempotencyService) private readonly idempotency: IdempotencyService,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

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
      async (tx) => {
        const issued = await this.issue(tx, command, {
          operatorId,
          roles: input.roles,
          label: input.label ?? 'api key',
          expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
        });
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
    const operator = await this.operators.find(k.operatorId, tx);
    if (!operator) throw AppError.notFound('operator');
    if (operator.status !== 'active') throw new AppError(ErrorCode.Conflict, 'the operator is disabled');
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
      async (tx) => {
        const old = await this.keys.lockForUpdate(tx, keyId);
        if (!old) throw AppError.notFound('key');
        if (old.status !== 'active' || old.rotatedTo) {
          throw new AppError(
            ErrorCode.Conflict,
            'only an active key that was not rotated yet can be rotated',
          );
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
function withoutSecret(issued: IssuedKey): Omit<IssuedKey, 'key'> & { key: null } {
  return { ...issued, key: null, notice: 'the key was shown only in the first response' };
}
