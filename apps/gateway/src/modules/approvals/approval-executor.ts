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
  type Actor,
} from '@desk/contracts';
import { Outbox } from '@desk/platform';
import type { ApprovalRecord } from './approvals.repository';

/** The canonical form of each kind of action, checked again when it executes. */
export const ACTION_SCHEMAS = {
  [ApprovalKind.Order]: z.object({ intentId: z.uuid(), order: orderParamsSchema }).strict(),
  [ApprovalKind.TradingResume]: z
    .object({ command: z.literal('resume'), reason: z.string().min(1).max(500) })
    .strict(),
  [ApprovalKind.RaiseLimits]: z
    .object({
      limits: z.record(z.string().max(64), unsignedDecimalString),
      reason: z.string().min(1).max(500),
    })
    .strict(),
} as const;

export type ExecutableKind = keyof typeof ACTION_SCHEMAS;

export function isExecutable(kind: ApprovalKind): kind is ExecutableKind {
  return kind in ACTION_SCHEMAS;
}

/**
 * What quorum releases, by kind, inside the approval's transaction (so it happens exactly when the request
 * turns 'executed'): an approved order goes back through risk; resuming and raising limits become control
 * commands to risk.
 */
@Injectable()
export class ApprovalExecutor {
  constructor(@Inject(Outbox) private readonly outbox: Outbox) {}

  async execute(tx: EntityManager, r: ApprovalRecord, action: unknown): Promise<void> {
    const requester: Actor = actorSchema.parse({
      type: r.requester.type,
      id: r.requester.id,
      ...(r.requester.keyId ? { keyId: r.requester.keyId } : {}),
    });
    const now = new Date().toISOString();
    const kind = r.kind as ExecutableKind;
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
        return;
      }
      case ApprovalKind.TradingResume: {
        const a = ACTION_SCHEMAS[ApprovalKind.TradingResume].parse(action);
        await this.outbox.add(tx, JobName.ControlCommand, {
          schemaVersion: SCHEMA_VERSION,
          commandId: randomUUID(),
          command: ControlCommandKind.Resume,
          actor: requester,
          reason: a.reason,
          issuedAt: now,
          approvalId: r.id,
          correlationId: r.correlationId,
        });
        return;
      }
      case ApprovalKind.RaiseLimits: {
        const a = ACTION_SCHEMAS[ApprovalKind.RaiseLimits].parse(action);
        await this.outbox.add(tx, JobName.ControlCommand, {
          schemaVersion: SCHEMA_VERSION,
          commandId: randomUUID(),
          command: ControlCommandKind.SetLimits,
          actor: requester,
          reason: a.reason,
          limits: a.limits,
          issuedAt: now,
          approvalId: r.id,
          correlationId: r.correlationId,
        });
        return;
      }
      default: {
        const unreachable: never = kind;
        throw new Error(`no executor for ${String(unreachable)}`);
      }
    }
  }
}
