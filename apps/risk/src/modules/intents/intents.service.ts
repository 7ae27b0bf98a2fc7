import { Inject, Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import type { EntityManager } from 'typeorm';
import {
  AuditAction,
  JobName,
  OrderStatus,
  QueueName,
  RiskReasonCode,
  SCHEMA_VERSION,
  ServiceName,
  money,
  serviceActor,
  toWire,
  type Actor,
  type IntentApproved,
  type IntentSubmitted,
  type OrderParams,
} from '@desk/contracts';
import { Outbox, uuidFromHash } from '@desk/platform';
import type { ApprovalNeed } from '../checks/approval-rule';
import { RiskCheckService } from '../checks/risk-check.service';
import type { RiskDecision, RiskFigures } from '../checks/risk-rule';
import { IntentsRepository, type DecisionRecord, type RiskStatus } from '../state/intents.repository';

export type IntentOutcome = { decided: true; status: RiskStatus } | { decided: false };

/**
 * Decides every intent once: the decision (row and history), the next job (OrderAccepted, or
 * ApprovalRequested for a critical order) and the audit events commit together through the outbox. A
 * redelivered intent decides nothing. A held (PENDING_APPROVAL) intent is decided again exactly once when
 * the gateway reports its approval: every check runs again except the two-man rule.
 */
@Injectable()
export class IntentsService {
  private readonly risk = serviceActor(ServiceName.Risk);

  constructor(
    @Inject(RiskCheckService) private readonly checks: RiskCheckService,
    @Inject(IntentsRepository) private readonly repository: IntentsRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  async handle(intent: IntentSubmitted): Promise<IntentOutcome> {
    const now = new Date();
    const { decision, approval } = await this.checks.evaluate(intent.intentId, intent.order, now);
    const record = recordOf(decision, approval, now);
    const decided = await this.repository.transaction(async (tx) => {
      const inserted = await this.repository.insertDecided(
        tx,
        {
          intentId: intent.intentId,
          source: intent.source,
          actor: intent.actor,
          order: intent.order,
          correlationId: intent.correlationId,
          submittedAt: intent.submittedAt,
          reduceOnly: false,
        },
        record,
      );
      if (!inserted) return false;
      const { symbol, side, type, quantity, price } = intent.order;
      await this.audit(
        tx,
        intent.intentId,
        AuditAction.OrderReceived,
        intent.actor,
        intent.correlationId,
        {
          source: intent.source,
          order:
            price === undefined ? { symbol, side, type, quantity } : { symbol, side, type, quantity, price },
        },
        new Date(intent.submittedAt),
      );
      await this.announce(
        tx,
        intent.intentId,
        intent.actor,
        intent.order,
        intent.correlationId,
        decision,
        record,
        {
          approvalContext: approval.context,
        },
      );
      return true;
    });
    void this.outbox.flush();
    return decided ? { decided, status: record.status } : { decided };
  }

  async approve(job: IntentApproved): Promise<IntentOutcome> {
    const now = new Date();
    const { decision } = await this.checks.evaluate(job.intentId, job.order, now);
    const outcome = await this.repository.transaction(async (tx) => {
      const held = await this.repository.lock(tx, job.intentId);
      if (!held) return 'unknown' as const;
      // Released once: a second delivery (or a stale approval) finds it decided already.
      if (held.status !== OrderStatus.PendingApproval) return { decided: false } as const;
      let record: DecisionRecord;
      if (!sameOrder(held.order, job.order)) {
        record = {
          status: OrderStatus.Rejected,
          reasonCode: RiskReasonCode.ApprovalInvalid,
          reason: 'the approved order differs from the order risk held for approval',
          notional: null,
          referencePrice: null,
          decidedAt: now,
          approvalId: job.approvalId,
        };
        await this.repository.decideAgain(tx, job.intentId, record);
        await this.audit(tx, job.intentId, AuditAction.OrderRejected, this.risk, held.correlationId, {
          reasonCode: record.reasonCode,
          reason: record.reason,
          approvalId: job.approvalId,
          held: held.order,
          approved: job.order,
        });
        return { decided: true, status: record.status } as const;
      }
      // Every check again except the two-man rule: limits or the trading state may have changed. The
      // order goes on exactly as approved (same strings: execution checks the approval's hash of them).
      record = { ...recordOf(decision, NOT_REQUIRED, now), approvalId: job.approvalId };
      await this.repository.decideAgain(tx, job.intentId, record);
      await this.announce(tx, job.intentId, held.actor, job.order, held.correlationId, decision, record, {
        approvalId: job.approvalId,
      });
      return { decided: true, status: record.status } as const;
    });
    if (outcome === 'unknown') {
      await this.refuseUnknownApproval(job);
      throw new UnrecoverableError(`intent ${job.intentId} was never held for approval by risk`);
    }
    void this.outbox.flush();
    return outcome;
  }

  /** The next hop and the decision's audit event. */
  private async announce(
    tx: EntityManager,
    intentId: string,
    actor: Actor,
    order: OrderParams,
    correlationId: string,
    decision: RiskDecision,
    record: DecisionRecord,
    extra: { approvalId?: string; approvalContext?: ApprovalNeed['context'] },
  ): Promise<void> {
    const at = record.decidedAt.toISOString();
    const { approvalId, approvalContext = {} } = extra;
    switch (record.status) {
      case OrderStatus.Accepted:
        await this.outbox.add(tx, JobName.OrderAccepted, {
          schemaVersion: SCHEMA_VERSION,
          correlationId,
          intentId,
          actor,
          order,
          acceptedAt: at,
          ...(approvalId ? { approvalId } : {}),
        });
        await this.audit(tx, intentId, AuditAction.OrderAccepted, this.risk, correlationId, {
          ...figuresPayload(decision.status === OrderStatus.Accepted ? decision.figures : {}),
          ...(approvalId ? { approvalId } : {}),
        });
        return;
      case OrderStatus.PendingApproval:
        await this.outbox.add(tx, JobName.ApprovalRequested, {
          schemaVersion: SCHEMA_VERSION,
          correlationId,
          intentId,
          actor,
          order,
          reasonCode: RiskReasonCode.ApprovalRequired,
          context: approvalContext,
          requestedAt: at,
        });
        await this.audit(tx, intentId, AuditAction.OrderPendingApproval, this.risk, correlationId, {
          reasonCode: RiskReasonCode.ApprovalRequired,
          reason: record.reason,
          ...approvalContext,
        });
        return;
      case OrderStatus.Rejected: {
        if (decision.status !== OrderStatus.Rejected) throw new Error('rejected without a violation');
        const { reasonCode, reason, ...figures } = decision.violation;
        await this.audit(tx, intentId, AuditAction.OrderRejected, this.risk, correlationId, {
          reasonCode,
          reason,
          ...figuresPayload(figures),
          ...(approvalId ? { approvalId } : {}),
        });
        return;
      }
      default: {
        const unreachable: never = record.status;
        throw new Error(`unknown decision ${String(unreachable)}`);
      }
    }
  }

  /** An approval for an intent risk never held: refused terminally, and recorded. */
  private async refuseUnknownApproval(job: IntentApproved): Promise<void> {
    await this.repository.transaction((tx) =>
      this.outbox.addAudit(tx, {
        eventId: uuidFromHash(
          `${AuditAction.JobRejected}:${ServiceName.Risk}:${QueueName.Intents}/${job.intentId}.approved`,
        ),
        actor: this.risk,
        action: AuditAction.JobRejected,
        subject: { type: 'job', id: `${QueueName.Intents}/${job.intentId}.approved` },
        payload: {
          queue: QueueName.Intents,
          jobName: JobName.IntentApproved,
          reason: 'no intent with this id is held for approval',
          approvalId: job.approvalId,
        },
        correlationId: job.correlationId,
      }),
    );
    void this.outbox.flush();
  }

  private async audit(
    tx: EntityManager,
    intentId: string,
    action: AuditAction,
    actor: Actor,
    correlationId: string,
    payload: Record<string, unknown>,
    occurredAt: Date = new Date(),
  ): Promise<void> {
    await this.outbox.addAudit(tx, {
      // Deterministic: the same intent always yields the same event ids, so nothing is recorded twice.
      eventId: uuidFromHash(`${action}:${intentId}`),
      occurredAt,
      actor,
      action,
      subject: { type: 'order', id: intentId },
      payload,
      correlationId,
    });
  }
}

const NOT_REQUIRED: ApprovalNeed = { required: false, reason: '', context: {} };

function recordOf(decision: RiskDecision, approval: ApprovalNeed, decidedAt: Date): DecisionRecord {
  switch (decision.status) {
    case OrderStatus.Accepted: {
      const base = {
        notional: decision.figures.notional ?? null,
        referencePrice: decision.figures.referencePrice ?? null,
        decidedAt,
      };
      return approval.required
        ? {
            ...base,
            status: OrderStatus.PendingApproval,
            reasonCode: RiskReasonCode.ApprovalRequired,
            reason: approval.reason,
          }
        : { ...base, status: OrderStatus.Accepted, reasonCode: null, reason: null };
    }
    case OrderStatus.Rejected: {
      const v = decision.violation;
      return {
        status: OrderStatus.Rejected,
        reasonCode: v.reasonCode,
        reason: v.reason,
        notional: v.notional ?? null,
        referencePrice: v.referencePrice ?? null,
        decidedAt,
      };
    }
    default: {
      const unreachable: never = decision;
      throw new Error(`unknown decision ${JSON.stringify(unreachable)}`);
    }
  }
}

function sameOrder(a: OrderParams, b: OrderParams): boolean {
  const samePrice =
    a.price === undefined || b.price === undefined ? a.price === b.price : money(a.price).eq(money(b.price));
  return (
    a.symbol === b.symbol &&
    a.side === b.side &&
    a.type === b.type &&
    money(a.quantity).eq(money(b.quantity)) &&
    samePrice
  );
}

/** Decimal strings, and only the figures that exist (the audit payload carries no undefined values). */
function figuresPayload(figures: RiskFigures): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ['limit', 'measured', 'notional', 'referencePrice'] as const) {
    const value = figures[key];
    if (value !== undefined) out[key] = toWire(value);
  }
  return out;
}
