import { Inject, Injectable } from '@nestjs/common';
import {
  AuditAction,
  JobName,
  OrderStatus,
  SCHEMA_VERSION,
  ServiceName,
  serviceActor,
  toWire,
  type Actor,
  type AuditEvent,
  type IntentSubmitted,
} from '@desk/contracts';
import { Outbox, uuidFromHash } from '@desk/platform';
import { RiskCheckService } from '../checks/risk-check.service';
import type { RiskDecision, RiskFigures } from '../checks/risk-rule';
import { IntentsRepository, type IntentDecisionRecord } from './intents.repository';

export type IntentOutcome = { decided: true; status: RiskDecision['status'] } | { decided: false };

/**
 * Decides every submitted intent once: the decision row, the OrderAccepted job (when accepted) and the
 * audit events are committed together through the outbox. A redelivered intent decides nothing.
 */
@Injectable()
export class IntentsService {
  constructor(
    @Inject(RiskCheckService) private readonly checks: RiskCheckService,
    @Inject(IntentsRepository) private readonly repository: IntentsRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  async handle(intent: IntentSubmitted): Promise<IntentOutcome> {
    const now = new Date();
    const decision = await this.checks.evaluate(intent.order, now);
    const decided = await this.repository.transaction(async (tx) => {
      if (!(await this.repository.insertDecided(tx, intent, recordOf(decision, now)))) return false;
      await this.outbox.add(tx, JobName.AuditEvent, receivedEvent(intent));
      if (decision.status === OrderStatus.Accepted) {
        await this.outbox.add(tx, JobName.OrderAccepted, {
          schemaVersion: SCHEMA_VERSION,
          correlationId: intent.correlationId,
          intentId: intent.intentId,
          actor: intent.actor,
          order: intent.order,
          acceptedAt: now.toISOString(),
        });
      }
      await this.outbox.add(tx, JobName.AuditEvent, decisionEvent(intent, decision, now));
      return true;
    });
    void this.outbox.flush();
    return decided ? { decided, status: decision.status } : { decided };
  }
}

function recordOf(decision: RiskDecision, decidedAt: Date): IntentDecisionRecord {
  switch (decision.status) {
    case OrderStatus.Accepted:
      return {
        status: decision.status,
        reasonCode: null,
        reason: null,
        notional: decision.figures.notional ?? null,
        referencePrice: decision.figures.referencePrice ?? null,
        decidedAt,
      };
    case OrderStatus.Rejected: {
      const v = decision.violation;
      return {
        status: decision.status,
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

function auditEvent(
  intent: IntentSubmitted,
  action: AuditAction,
  actor: Actor,
  occurredAt: string,
  payload: Record<string, unknown>,
): AuditEvent {
  return {
    schemaVersion: SCHEMA_VERSION,
    // Deterministic: the same intent always yields the same event ids, so nothing is recorded twice.
    eventId: uuidFromHash(`${action}:${intent.intentId}`),
    occurredAt,
    actor,
    action,
    subject: { type: 'order', id: intent.intentId },
    payload,
    correlationId: intent.correlationId,
  };
}

function receivedEvent(intent: IntentSubmitted): AuditEvent {
  const { symbol, side, type, quantity, price } = intent.order;
  return auditEvent(intent, AuditAction.OrderReceived, intent.actor, intent.submittedAt, {
    source: intent.source,
    order: price === undefined ? { symbol, side, type, quantity } : { symbol, side, type, quantity, price },
  });
}

function decisionEvent(intent: IntentSubmitted, decision: RiskDecision, now: Date): AuditEvent {
  const actor = serviceActor(ServiceName.Risk);
  const at = now.toISOString();
  switch (decision.status) {
    case OrderStatus.Accepted:
      return auditEvent(intent, AuditAction.OrderAccepted, actor, at, figuresPayload(decision.figures));
    case OrderStatus.Rejected: {
      const { reasonCode, reason, ...figures } = decision.violation;
      return auditEvent(intent, AuditAction.OrderRejected, actor, at, {
        reasonCode,
        reason,
        ...figuresPayload(figures),
      });
    }
    default: {
      const unreachable: never = decision;
      throw new Error(`unknown decision ${JSON.stringify(unreachable)}`);
    }
  }
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
