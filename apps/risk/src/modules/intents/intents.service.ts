import { Inject, Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import type { EntityManager } from 'typeorm';
import {
  ApprovalKind,
  ApprovalOutcome,
  AuditAction,
  IntentSource,
  JobName,
  OrderStatus,
  QueueName,
  RiskReasonCode,
  SCHEMA_VERSION,
  ServiceName,
  actionHash,
  approvalProblem,
  orderAction,
  orderDifferences,
  recordedOrderDifferences,
  serviceActor,
  toWire,
  type Actor,
  type ApprovalRow,
  type IntentApproved,
  type IntentNotApproved,
  type IntentSubmitted,
  type OrderParams,
  type RecordedOrder,
} from '@desk/contracts';
import { Batcher, Outbox, UnverifiedJobError, uuidFromHash } from '@desk/platform';
import type { ApprovalNeed } from '../checks/approval-rule';
import { RiskCheckService } from '../checks/risk-check.service';
import type { RiskDecision, RiskFigures } from '../checks/risk-rule';
import { BatchReads } from '../state/batch-reads';
import { BookLockService } from '../state/book-lock.service';
import { IntentsRepository, type DecisionRecord, type RiskStatus } from '../state/intents.repository';
import { countDecision } from '../checks/risk-metrics';
import { IntentSourcesRepository } from './intent-sources.repository';

export type IntentOutcome = { decided: true; status: RiskStatus } | { decided: false };

/** Most intents decided in one transaction (the intents worker's concurrency bounds it too). */
export const DECISION_BATCH_SIZE = 32;

/** What a batch made of one intent: its decision (undefined: decided before), or why it was refused. */
type BatchOutcome = { record: DecisionRecord | undefined } | { refused: UnverifiedJobError };

/**
 * Decides every intent once: the decision (row and history), the next job (OrderAccepted, or
 * ApprovalRequested for a critical order) and the audit events commit together through the outbox. A
 * redelivered intent decides nothing. A held (PENDING_APPROVAL) intent is decided again exactly once when
 * the gateway reports its approval: every check runs again except the two-man rule.
 *
 * No job is its own evidence (docs/adr/0010): an intent is decided only if the service it names as its
 * source recorded exactly this intent (id, actor, parameters), and an approval only if the gateway's
 * approval record releases exactly this order; otherwise UnverifiedJobError and nothing is recorded.
 *
 * Each decision is evaluated and recorded in a transaction that holds the risk book (BookLockService):
 * even two instances deciding at once could not together exceed a limit, and only the writer instance
 * (docs/adr/0015) may decide at all. New intents that arrive while a batch is being decided share the next
 * transaction (group commit, docs/adr/0024), each decided in turn as if alone.
 */
@Injectable()
export class IntentsService {
  private readonly risk = serviceActor(ServiceName.Risk);
  /** New intents, decided in batches (group commit): as many as arrived while the last batch was decided. */
  private readonly decisions = new Batcher<IntentSubmitted, BatchOutcome>({
    maxSize: DECISION_BATCH_SIZE,
    maxWaitMs: 0,
    write: (batch) => this.decideBatch(batch),
  });

  constructor(
    @Inject(RiskCheckService) private readonly checks: RiskCheckService,
    @Inject(IntentsRepository) private readonly repository: IntentsRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(IntentSourcesRepository) private readonly sources: IntentSourcesRepository,
    @Inject(BookLockService) private readonly book: BookLockService,
  ) {}

  /** Joins the next batch at once, so that intents are decided in the order their jobs started. */
  async handle(intent: IntentSubmitted): Promise<IntentOutcome> {
    const outcome = await this.decisions.submit(intent);
    if ('refused' in outcome) throw outcome.refused;
    const decided = outcome.record;
    if (!decided) return { decided: false };
    countDecision(decided.status, decided.reasonCode);
    return { decided: true, status: decided.status };
  }

  /**
   * Decides a batch of intents in one transaction holding the book: one lock, one fence check and one
   * commit for all of them, each decision seeing the ones before it in the batch exactly as it would see
   * them committed. Each intent's source is checked first; a forged one is refused alone. The prices are
   * read once, before the transaction (no Redis I/O in it). A batch that fails for any other reason is
   * decided again intent by intent (Batcher), so one intent's failure never decides or fails another.
   *
   * The batch's working state (pending exposure, counts) is read once under the lock and kept in memory
   * (DecisionLedger), every decision is made from it, and then all of them are recorded together: a
   * handful of statements per batch, not several per intent (docs/adr/0024). The whole batch is judged at
   * one moment, once it holds the book.
   */
  private async decideBatch(intents: IntentSubmitted[]): Promise<BatchOutcome[]> {
    const [operators, agents] = await Promise.all([
      this.sources.operatorSubmissions(idsOf(intents, IntentSource.Operator)),
      this.sources.agentIntents(idsOf(intents, IntentSource.Agent)),
    ]);
    const refusals = intents.map((intent) => sourceProblem(intent, { operators, agents }));
    const verified = intents.filter((_, i) => !refusals[i]);
    const prices = await this.checks.marketPrices();
    const outcomes = await this.repository.transaction(async (tx) => {
      const tradingState = await this.book.hold(tx);
      const now = new Date();
      // Decided before (a redelivered job, or twice in this batch): decided once, and nothing more.
      const seen = await this.repository.recorded(
        tx,
        verified.map((i) => i.intentId),
      );
      const ledger = await this.checks.ledger(
        tx,
        now,
        verified.map((i) => i.actor),
      );
      const reads = new BatchReads();
      const decided: {
        intent: IntentSubmitted;
        decision: RiskDecision;
        approval: ApprovalNeed;
        record: DecisionRecord;
      }[] = [];
      const results: BatchOutcome[] = [];
      for (const [i, intent] of intents.entries()) {
        const refused = refusals[i];
        const id = intent.intentId.toLowerCase();
        if (refused || seen.has(id)) {
          results.push(refused ? { refused } : { record: undefined });
          continue;
        }
        seen.add(id);
        const { decision, approval } = await this.checks.evaluate(tx, {
          order: intent.order,
          actor: intent.actor,
          now,
          prices,
          tradingState,
          batch: reads,
          ledger,
        });
        const record = recordOf(decision, approval, now);
        ledger.record(intent.order, intent.actor, record.status);
        decided.push({ intent, decision, approval, record });
        results.push({ record });
      }
      await this.record(tx, decided);
      return results;
    });
    void this.outbox.flush();
    return outcomes;
  }

  /** Records a batch's decisions (rows and history in one statement each), their audit events and next jobs. */
  private async record(
    tx: EntityManager,
    decided: readonly {
      intent: IntentSubmitted;
      decision: RiskDecision;
      approval: ApprovalNeed;
      record: DecisionRecord;
    }[],
  ): Promise<void> {
    const inserted = await this.repository.insertDecidedMany(
      tx,
      decided.map(({ intent, record }) => ({
        intent: {
          intentId: intent.intentId,
          source: intent.source,
          actor: intent.actor,
          order: intent.order,
          correlationId: intent.correlationId,
          submittedAt: intent.submittedAt,
          reduceOnly: false,
        },
        decision: record,
      })),
    );
    for (const { intent, decision, approval, record } of decided) {
      // Nothing else records intents while the book is held: a missing row fails the batch (decided again).
      if (!inserted.has(intent.intentId.toLowerCase())) {
        throw new Error(`intent ${intent.intentId} was recorded by another transaction during its batch`);
      }
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
        { approvalContext: approval.context },
      );
    }
  }

  async approve(job: IntentApproved): Promise<IntentOutcome> {
    await this.verifyApproval(job);
    const prices = await this.checks.marketPrices();
    const now = new Date();
    // The trader's open orders are counted, not the approval's requester's (an unknown intent is refused below).
    const trader = (await this.repository.actorOf(job.intentId)) ?? job.actor;
    const outcome = await this.repository.transaction(async (tx) => {
      const tradingState = await this.book.hold(tx);
      const held = await this.repository.lock(tx, job.intentId);
      if (!held) return 'unknown' as const;
      // Released once: a second delivery (or a stale approval) finds it decided already.
      if (held.status !== OrderStatus.PendingApproval) return { decided: false } as const;
      let record: DecisionRecord;
      if (orderDifferences(held.order, job.order).length) {
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
        return { decided: true, status: record.status, reasonCode: record.reasonCode } as const;
      }
      // Every check again except the two-man rule: limits or the trading state may have changed. The
      // order goes on exactly as approved (same strings: execution checks the approval's hash of them).
      const { decision } = await this.checks.evaluate(tx, {
        order: job.order,
        actor: trader,
        now,
        prices,
        tradingState,
        ledger: await this.checks.ledger(tx, now, [trader], job.intentId),
      });
      record = { ...recordOf(decision, NOT_REQUIRED, now), approvalId: job.approvalId };
      await this.repository.decideAgain(tx, job.intentId, record);
      await this.announce(tx, job.intentId, held.actor, job.order, held.correlationId, decision, record, {
        approvalId: job.approvalId,
      });
      return { decided: true, status: record.status, reasonCode: record.reasonCode } as const;
    });
    if (outcome === 'unknown') {
      await this.refuseUnknownApproval(job);
      throw new UnrecoverableError(`intent ${job.intentId} was never held for approval by risk`);
    }
    void this.outbox.flush();
    if (!outcome.decided) return outcome;
    countDecision(outcome.status, outcome.reasonCode);
    return { decided: true, status: outcome.status };
  }

  /**
   * A held order will never be approved (denied, expired, or its release refused): risk owns its state, so
   * risk moves it from PENDING_APPROVAL to REJECTED — once; it then counts as no exposure and no order of
   * the day. The gateway's approval record must say the same, or the job is forged.
   */
  async notApproved(job: IntentNotApproved): Promise<IntentOutcome> {
    const problem = notApprovedProblem(await this.sources.approval(job.approvalId), job);
    if (problem) throw new UnverifiedJobError(`approval of intent ${job.intentId}: ${problem}`);
    const reasonCode = NOT_APPROVED_REASON[job.outcome];
    const outcome = await this.repository.transaction(async (tx) => {
      await this.book.hold(tx);
      const held = await this.repository.lock(tx, job.intentId);
      if (!held) return 'unknown' as const;
      if (held.status !== OrderStatus.PendingApproval) return { decided: false } as const;
      const record: DecisionRecord = {
        status: OrderStatus.Rejected,
        reasonCode,
        reason: job.reason,
        notional: null,
        referencePrice: null,
        decidedAt: new Date(),
        approvalId: job.approvalId,
      };
      await this.repository.decideAgain(tx, job.intentId, record);
      await this.audit(tx, job.intentId, AuditAction.OrderRejected, this.risk, held.correlationId, {
        reasonCode,
        reason: job.reason,
        approvalId: job.approvalId,
      });
      return { decided: true, status: record.status, reasonCode: record.reasonCode } as const;
    });
    if (outcome === 'unknown') {
      throw new UnverifiedJobError(`intent ${job.intentId} was never held for approval by risk`);
    }
    void this.outbox.flush();
    if (!outcome.decided) return outcome;
    countDecision(outcome.status, outcome.reasonCode);
    return { decided: true, status: outcome.status };
  }

  /**
   * The intent's source must have recorded it: an operator intent in the gateway's submissions (same
   * operator and key, same parameters), an agent intent in the agents' decisions. No other source sends
   * intents on the queue (risk decides its own closing orders in-process; no webhook producer exists).
   */
  /** The gateway's approval record must release exactly this order (executed, its hash, enough approvers). */
  private async verifyApproval(job: IntentApproved): Promise<void> {
    const problem = approvalProblem(await this.sources.approval(job.approvalId), {
      approvalId: job.approvalId,
      kind: ApprovalKind.Order,
      subjectId: job.intentId,
      actionHash: actionHash(ApprovalKind.Order, orderAction(job.intentId, job.order)),
    });
    if (problem) throw new UnverifiedJobError(`approval of intent ${job.intentId}: ${problem}`);
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

const NOT_APPROVED_REASON: Record<ApprovalOutcome, RiskReasonCode> = {
  [ApprovalOutcome.Denied]: RiskReasonCode.ApprovalDenied,
  [ApprovalOutcome.Expired]: RiskReasonCode.ApprovalExpired,
  [ApprovalOutcome.Refused]: RiskReasonCode.ApprovalInvalid,
};

/** Why the gateway's record does not end this order's approval as the job says (undefined when it does). */
function notApprovedProblem(row: ApprovalRow | undefined, job: IntentNotApproved): string | undefined {
  if (!row) return `approval ${job.approvalId} does not exist`;
  if (row.kind !== String(ApprovalKind.Order)) return `approval ${row.id} is for ${row.kind}, not an order`;
  if (row.subjectId !== job.intentId) return `approval ${row.id} is for another order (${row.subjectId})`;
  if (row.status !== String(job.outcome)) return `approval ${row.id} is ${row.status}, not ${job.outcome}`;
  return undefined;
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

/** Decimal strings, and only the figures that exist (the audit payload carries no undefined values). */
function figuresPayload(figures: RiskFigures): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ['limit', 'measured', 'notional', 'referencePrice'] as const) {
    const value = figures[key];
    if (value !== undefined) out[key] = toWire(value);
  }
  return out;
}

/** The ids of the intents that name this source. */
function idsOf(intents: readonly IntentSubmitted[], source: IntentSource): string[] {
  return intents.filter((i) => i.source === source).map((i) => i.intentId);
}

/**
 * Why the intent did not come from the source it names (undefined: it did): that source must have recorded
 * exactly this intent (id, actor, parameters).
 */
function sourceProblem(
  intent: IntentSubmitted,
  recorded: {
    readonly operators: ReadonlyMap<string, RecordedOrder>;
    readonly agents: ReadonlyMap<string, RecordedOrder>;
  },
): UnverifiedJobError | undefined {
  let found: RecordedOrder | undefined;
  switch (intent.source) {
    case IntentSource.Operator:
      found = recorded.operators.get(intent.intentId.toLowerCase());
      break;
    case IntentSource.Agent:
      found = recorded.agents.get(intent.intentId.toLowerCase());
      break;
    case IntentSource.Webhook:
    case IntentSource.Risk:
      return new UnverifiedJobError(`no service records intents of source ${intent.source} on the queue`);
    default: {
      const unreachable: never = intent.source;
      throw new Error(`unknown intent source ${String(unreachable)}`);
    }
  }
  if (!found) {
    return new UnverifiedJobError(`the ${intent.source} source recorded no intent ${intent.intentId}`);
  }
  const differences = recordedOrderDifferences(found, intent);
  if (!differences.length) return undefined;
  return new UnverifiedJobError(
    `intent ${intent.intentId} differs from what its ${intent.source} source recorded: ${differences.join('; ')}`,
  );
}
