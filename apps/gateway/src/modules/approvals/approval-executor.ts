import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { z } from 'zod';
import {
  ApprovalKind,
  ControlCommandKind,
  JobName,
  SCHEMA_VERSION,
  actorSchema,
  orderParamsSchema,
  unsignedDecimalString,
  venueIdSchema,
  versionString,
  type Actor,
  type ControlCommand,
} from '@desk/contracts';
import { Outbox } from '@desk/platform';
import { Role } from '../access/role';
import type { ApprovalRecord } from './approvals.repository';
import { readRiskVersions, recordControlRequest } from './control-requests.repository';

const reason = z.string().min(1).max(500);
const keyId = z.string().regex(/^kid_[0-9a-f]{16}$/);

/** The canonical form of each kind of action, checked again when it executes. */
export const ACTION_SCHEMAS = {
  [ApprovalKind.Order]: z.object({ intentId: z.uuid(), order: orderParamsSchema }).strict(),
  /** Names the halt it lifts (the trading state's version when requested). */
  [ApprovalKind.TradingResume]: z
    .object({ command: z.literal('resume'), reason, stateVersion: versionString })
    .strict(),
  /** Names the limits it was asked against (their version when requested). */
  [ApprovalKind.RaiseLimits]: z
    .object({
      limits: z.record(z.string().max(64), unsignedDecimalString),
      reason,
      limitsVersion: versionString,
    })
    .strict(),
  [ApprovalKind.EnableLiveVenue]: z.object({ venue: venueIdSchema, reason }).strict(),
  /**
   * A key with a role beyond viewer for an operator. The holder generated the key; only its id and digest
   * (SHA-256 hex of the key) were registered, so quorum activates a key nobody at the desk but its holder
   * has ever seen.
   */
  [ApprovalKind.KeyGrant]: z
    .object({
      operatorId: z.uuid(),
      roles: z.array(z.enum(Role)).min(1),
      label: z.string().min(1).max(100),
      expiresAt: z.iso.datetime({ offset: true }).nullable(),
      keyId,
      digest: z.string().regex(/^[0-9a-f]{64}$/),
    })
    .strict(),
  /** A new operator, with the id it will have. */
  [ApprovalKind.OperatorCreate]: z
    .object({ operatorId: z.uuid(), name: z.string().min(1).max(100) })
    .strict(),
} as const satisfies Record<ApprovalKind, z.ZodType>;

export type ExecutableKind = keyof typeof ACTION_SCHEMAS;
export type ActionOf<K extends ExecutableKind> = z.infer<(typeof ACTION_SCHEMAS)[K]>;

export function isExecutable(kind: ApprovalKind): kind is ExecutableKind {
  return kind in ACTION_SCHEMAS;
}

/**
 * Releases an approved action inside the approval's transaction. Returns why it must be refused instead
 * (the approved action can no longer be carried out as approved), and then it has written nothing: a
 * release checks everything before it writes.
 */
export type Release<K extends ExecutableKind> = (
  tx: EntityManager,
  request: ApprovalRecord,
  action: ActionOf<K>,
) => Promise<string | undefined>;

/** Who asked for the action: the actor of what its release does. */
export function requesterOf(r: ApprovalRecord): Actor {
  return actorSchema.parse({
    type: r.requester.type,
    id: r.requester.id,
    ...(r.requester.keyId ? { keyId: r.requester.keyId } : {}),
  });
}

/** Kinds released by the feature that owns them (registered at start-up, so approvals depends on no feature). */
type RegisteredKind = ApprovalKind.KeyGrant | ApprovalKind.OperatorCreate;

/**
 * What quorum releases, by kind, inside the approval's transaction (so it happens exactly when the request
 * turns 'executed'): an approved order goes back through risk; resuming, raising limits and enabling a
 * live venue become control commands to risk (which checks the approval record again); a key grant and a
 * new operator are carried out by the keys and operators features.
 */
@Injectable()
export class ApprovalExecutor {
  private readonly registered: { [K in RegisteredKind]?: Release<K> } = {};

  constructor(@Inject(Outbox) private readonly outbox: Outbox) {}

  register<K extends RegisteredKind>(kind: K, release: Release<K>): void {
    if (this.registered[kind]) throw new Error(`approval kind ${kind} has two releases`);
    (this.registered as Partial<Record<K, Release<K>>>)[kind] = release;
  }

  /** Kinds nobody can release: the service refuses to start with any. */
  unreleasable(): RegisteredKind[] {
    const kinds: RegisteredKind[] = [ApprovalKind.KeyGrant, ApprovalKind.OperatorCreate];
    return kinds.filter((k) => !this.registered[k]);
  }

  private release<K extends RegisteredKind>(
    kind: K,
    tx: EntityManager,
    r: ApprovalRecord,
    action: ActionOf<K>,
  ): Promise<string | undefined> {
    const release = this.registered[kind];
    if (!release) throw new Error(`no release registered for ${kind}`);
    return release(tx, r, action);
  }

  /** A control command to risk, recorded where risk checks it (gateway.control_sources) in this transaction. */
  private async command(tx: EntityManager, c: ControlCommand): Promise<void> {
    await recordControlRequest(tx, c);
    await this.outbox.add(tx, JobName.ControlCommand, c);
  }

  async execute(tx: EntityManager, r: ApprovalRecord, action: unknown): Promise<string | undefined> {
    const requester = requesterOf(r);
    const now = new Date().toISOString();
    const control = { schemaVersion: SCHEMA_VERSION, actor: requester, issuedAt: now, approvalId: r.id };
    const kind = r.kind;
    switch (kind) {
      case ApprovalKind.Order: {
        const a = ACTION_SCHEMAS[ApprovalKind.Order].parse(action);
        await this.outbox.add(tx, JobName.IntentApproved, {
          schemaVersion: SCHEMA_VERSION,
          intentId: a.intentId,
          approvalId: r.id,
          actor: requester,
          order: a.order,
          approvedAt: now,
          correlationId: r.correlationId,
        });
        return undefined;
      }
      case ApprovalKind.TradingResume: {
        const a = ACTION_SCHEMAS[ApprovalKind.TradingResume].parse(action);
        const { stateVersion } = await readRiskVersions(tx);
        if (stateVersion !== a.stateVersion) {
          return `the trading state changed since this resume was requested (version ${a.stateVersion}, now ${stateVersion ?? 'unknown'}): the new halt needs its own approval`;
        }
        await this.command(tx, {
          ...control,
          commandId: randomUUID(),
          command: ControlCommandKind.Resume,
          reason: a.reason,
          stateVersion: a.stateVersion,
          correlationId: r.correlationId,
        });
        return undefined;
      }
      case ApprovalKind.RaiseLimits: {
        const a = ACTION_SCHEMAS[ApprovalKind.RaiseLimits].parse(action);
        const { limitsVersion } = await readRiskVersions(tx);
        if (limitsVersion !== a.limitsVersion) {
          return `the limits changed since this raise was requested (version ${a.limitsVersion}, now ${limitsVersion}): ask again`;
        }
        await this.command(tx, {
          ...control,
          commandId: randomUUID(),
          command: ControlCommandKind.SetLimits,
          reason: a.reason,
          limits: a.limits,
          limitsVersion: a.limitsVersion,
          correlationId: r.correlationId,
        });
        return undefined;
      }
      case ApprovalKind.EnableLiveVenue: {
        const a = ACTION_SCHEMAS[ApprovalKind.EnableLiveVenue].parse(action);
        await this.command(tx, {
          ...control,
          commandId: randomUUID(),
          command: ControlCommandKind.EnableLiveVenue,
          venue: a.venue,
          reason: a.reason,
          correlationId: r.correlationId,
        });
        return undefined;
      }
      case ApprovalKind.KeyGrant:
        return this.release(kind, tx, r, ACTION_SCHEMAS[kind].parse(action));
      case ApprovalKind.OperatorCreate:
        return this.release(kind, tx, r, ACTION_SCHEMAS[kind].parse(action));
      default: {
        const unreachable: never = kind;
        throw new Error(`no executor for ${String(unreachable)}`);
      }
    }
  }
}
