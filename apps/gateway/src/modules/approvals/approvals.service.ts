import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import {
  ApprovalKind,
  ApprovalOutcome,
  AuditAction,
  JobName,
  SCHEMA_VERSION,
  actionHash,
  canonicalJson,
  money,
  orderAction,
  OrderStatus,
  recordedOrderDifferences,
  serviceActor,
  ServiceName,
  type Actor,
  type ApprovalNotify,
  type ApprovalRequested,
} from '@desk/contracts';
import { AppError, ErrorCode, Outbox, UnverifiedJobError } from '@desk/platform';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';
import { decodeTimeIdCursor, encodeCursor, type Page } from '../../http/cursor';
import { parseInput } from '../../http/zod-input';
import { ApprovalExecutor, ACTION_SCHEMAS, isExecutable } from './approval-executor';
import { ApprovalHoldsRepository, type ApprovalHold } from './approval-holds.repository';
import { denySchema, listApprovalsQuerySchema, type ApprovalView } from './approvals.dto';
import { ApprovalsRepository, type ApprovalRecord } from './approvals.repository';
import { UUID_RE } from '../../http/uuid';
import { SetupService } from '../setup/setup.service';

export interface NewApproval {
  kind: ApprovalKind;
  subjectId: string;
  action: unknown;
  context: Record<string, unknown>;
  requester: Actor;
  correlationId: string;
}

/** A refusal to record before answering (the audit event must commit even though the request fails). */
class Refusal extends Error {
  constructor(readonly error: AppError) {
    super(error.message);
  }
}

/**
 * The two-man rule. A request stores the exact action and its hash; only approvers decide; the requester
 * never approves their own; one operator counts once whatever key they use; any denial is final; an
 * expired request never executes; an approver whose key or operator is revoked no longer counts; and on
 * quorum the action executes exactly once (decisions on one request are serialised by a row lock, and the
 * release commits together with the status change). While the desk is in setup (docs/adr/0011) no
 * approval counts: keys granted without approval can release nothing.
 */
@Injectable()
export class ApprovalsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ApprovalsService.name);
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(ApprovalsRepository) private readonly approvals: ApprovalsRepository,
    @Inject(ApprovalExecutor) private readonly executor: ApprovalExecutor,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(SetupService) private readonly setup: SetupService,
    @Inject(ApprovalHoldsRepository) private readonly holds: ApprovalHoldsRepository,
  ) {}

  /** Creates a request inside the caller's transaction. Undefined if one is already live for the subject. */
  async request(tx: EntityManager, a: NewApproval): Promise<ApprovalRecord | undefined> {
    if (!isExecutable(a.kind)) throw new Error(`no executor for approval kind ${String(a.kind)}`);
    const action = ACTION_SCHEMAS[a.kind].parse(a.action);
    const created = await this.approvals.insert(tx, {
      id: randomUUID(),
      kind: a.kind,
      subjectId: a.subjectId,
      action: canonicalJson(action),
      actionHash: actionHash(a.kind, action),
      context: canonicalJson(a.context),
      requester: { type: a.requester.type, id: a.requester.id, keyId: a.requester.keyId ?? null },
      requiredApprovals: this.config.APPROVAL_REQUIRED_APPROVALS,
      correlationId: a.correlationId,
      ttlSeconds: this.config.APPROVAL_TTL_SECONDS,
    });
    if (!created) return undefined;
    await this.outbox.addAudit(tx, {
      actor: a.requester,
      action: AuditAction.ApprovalRequested,
      subject: { type: 'approval', id: created.id },
      payload: {
        kind: a.kind,
        subjectId: a.subjectId,
        actionHash: created.actionHash,
        context: a.context,
        requiredApprovals: created.requiredApprovals,
        expiresAt: created.expiresAt.toISOString(),
      },
      correlationId: a.correlationId,
    });
    if (this.config.APPROVAL_WEBHOOK_URL) {
      await this.outbox.add(tx, JobName.ApprovalNotify, {
        schemaVersion: SCHEMA_VERSION,
        ...notificationOf(created),
        correlationId: a.correlationId,
      });
    }
    return created;
  }

  /**
   * Risk found an order critical: hold it. A redelivered job finds the live request and adds nothing. No
   * job is its own evidence (docs/adr/0016): risk must hold exactly this order, from exactly this actor,
   * with the figures shown (risk.approval_holds); otherwise UnverifiedJobError and nothing is recorded. A
   * real request that arrives after risk decided the intent (a late redelivery) opens nothing either.
   */
  async requestForOrder(job: ApprovalRequested): Promise<void> {
    const held = await this.holds.find(job.intentId);
    if (!held) throw new UnverifiedJobError(`risk holds no intent ${job.intentId} for approval`);
    const differences = recordedOrderDifferences(held, job);
    if (differences.length) {
      throw new UnverifiedJobError(
        `approval request for intent ${job.intentId} differs from the order risk holds: ${differences.join('; ')}`,
      );
    }
    if (held.decision !== OrderStatus.PendingApproval) {
      this.logger.warn(
        { intentId: job.intentId, decision: held.decision },
        'approval request for an intent risk no longer holds: nothing to open',
      );
      return;
    }
    const figures = figureDifferences(held, job.context);
    if (figures.length) {
      throw new UnverifiedJobError(
        `approval request for intent ${job.intentId} shows figures risk did not: ${figures.join('; ')}`,
      );
    }
    await this.db.transaction((tx) =>
      this.request(tx, {
        kind: ApprovalKind.Order,
        subjectId: job.intentId,
        action: orderAction(job.intentId, job.order),
        context: { ...job.context, reasonCode: job.reasonCode, order: job.order },
        requester: job.actor,
        correlationId: job.correlationId,
      }),
    );
    void this.outbox.flush();
  }

  /** What the webhook may say about an approval: its own record's kind, summary, quorum and expiry. */
  async notification(approvalId: string): Promise<ApprovalNotice | undefined> {
    const r = UUID_RE.test(approvalId) ? await this.approvals.find(approvalId) : undefined;
    return r && notificationOf(r);
  }

  async approve(actor: Actor & { keyId: string }, id: string, correlationId: string): Promise<ApprovalView> {
    return this.decide(actor, id, correlationId, async (tx, r) => {
      if (await this.setup.isBootstrap(tx)) {
        await this.audit(tx, actor, AuditAction.ApprovalRefused, r, correlationId, {
          reason: 'the desk is still in setup',
        });
        throw new Refusal(
          new AppError(
            ErrorCode.Conflict,
            'the desk is still in setup: no approval counts until an admin closes setup (POST /v1/setup/close)',
          ),
        );
      }
      if (r.requester.type === 'operator' && r.requester.id === actor.id) {
        await this.audit(tx, actor, AuditAction.ApprovalRefused, r, correlationId, {
          reason: 'requester may not approve their own request',
        });
        throw new Refusal(
          new AppError(ErrorCode.Forbidden, 'you requested this action: another approver must decide'),
        );
      }
      if (beneficiaryOf(r) === actor.id) {
        await this.audit(tx, actor, AuditAction.ApprovalRefused, r, correlationId, {
          reason: 'the operator who would receive the key may not approve it',
        });
        throw new Refusal(
          new AppError(ErrorCode.Forbidden, 'this key would be yours: another approver must decide'),
        );
      }
      const counted = await this.approvals.decide(tx, {
        requestId: r.id,
        operatorId: actor.id,
        keyId: actor.keyId,
        decision: 'approve',
        reason: null,
      });
      if (counted) await this.audit(tx, actor, AuditAction.ApprovalApproved, r, correlationId, {});
      const valid = await this.approvals.validApprovals(tx, r.id);
      if (valid < r.requiredApprovals) return;
      // Quorum: the action must still be exactly what was approved.
      const action: unknown = JSON.parse(r.action);
      if (
        !isExecutable(r.kind) ||
        canonicalJson(action) !== r.action ||
        actionHash(r.kind, action) !== r.actionHash
      ) {
        await this.close(tx, r, ApprovalOutcome.Refused, 'the action no longer matches the approved hash');
        await this.audit(tx, actor, AuditAction.ApprovalRefused, r, correlationId, {
          reason: 'action hash mismatch',
        });
        return;
      }
      const refused = await this.executor.execute(tx, r, action);
      if (refused) {
        await this.close(tx, r, ApprovalOutcome.Refused, refused);
        await this.audit(tx, actor, AuditAction.ApprovalRefused, r, correlationId, { reason: refused });
        return;
      }
      await this.approvals.setStatus(tx, r.id, 'executed', null);
      await this.audit(
        tx,
        serviceActor(ServiceName.Gateway),
        AuditAction.ApprovalExecuted,
        r,
        correlationId,
        { validApprovals: valid },
      );
    });
  }

  async deny(
    actor: Actor & { keyId: string },
    id: string,
    body: unknown,
    correlationId: string,
  ): Promise<ApprovalView> {
    const { reason } = parseInput(denySchema, body);
    return this.decide(actor, id, correlationId, async (tx, r) => {
      await this.approvals.decide(tx, {
        requestId: r.id,
        operatorId: actor.id,
        keyId: actor.keyId,
        decision: 'deny',
        reason,
      });
      await this.close(tx, r, ApprovalOutcome.Denied, reason);
      await this.audit(tx, actor, AuditAction.ApprovalDenied, r, correlationId, { reason });
    });
  }

  private async decide(
    actor: Actor,
    id: string,
    correlationId: string,
    work: (tx: EntityManager, r: ApprovalRecord) => Promise<void>,
  ): Promise<ApprovalView> {
    if (!UUID_RE.test(id)) throw AppError.notFound('approval');
    let refusal: AppError | undefined;
    await this.db.transaction(async (tx) => {
      const r = await this.approvals.lock(tx, id);
      if (!r) throw AppError.notFound('approval');
      if (r.status !== 'pending')
        throw new AppError(ErrorCode.Conflict, `this request is already ${r.status}`);
      if (r.expired) {
        await this.expire(tx, r);
        refusal = new AppError(ErrorCode.Conflict, 'this request has expired');
        return;
      }
      try {
        await work(tx, r);
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
        refusal = error.error;
      }
    });
    void this.outbox.flush();
    if (refusal) throw refusal;
    return this.get(id);
  }

  async get(id: string): Promise<ApprovalView> {
    const r = UUID_RE.test(id) ? await this.approvals.find(id) : undefined;
    if (!r) throw AppError.notFound('approval');
    return this.view(r);
  }

  async list(query: unknown): Promise<Page<ApprovalView>> {
    const q = parseInput(listApprovalsQuerySchema, query, '(query)');
    const before = q.cursor ? decodeTimeIdCursor(q.cursor) : undefined;
    const rows = await this.approvals.list(q.status, q.limit + 1, before);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      items: await Promise.all(page.map((r) => this.view(r))),
      nextCursor: rows.length > q.limit && last ? encodeCursor([last.cursorAt, last.id]) : null,
    };
  }

  onApplicationBootstrap(): void {
    const missing = this.executor.unreleasable();
    if (missing.length) throw new Error(`no release registered for approval kinds ${missing.join(', ')}`);
    this.sweeper = setInterval(() => void this.expireDue(), 2000);
    this.sweeper.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }

  /** Marks pending requests past their expiry as expired (and audits it); they can never execute. */
  async expireDue(): Promise<number> {
    try {
      const n = await this.db.transaction(async (tx) => {
        const due = await this.approvals.lockExpired(tx, 100);
        for (const r of due) await this.expire(tx, r);
        return due.length;
      });
      if (n) void this.outbox.flush();
      return n;
    } catch (error) {
      this.logger.warn({ err: error }, 'could not expire approval requests');
      return 0;
    }
  }

  private async expire(tx: EntityManager, r: ApprovalRecord): Promise<void> {
    await this.close(tx, r, ApprovalOutcome.Expired, 'nobody approved it in time');
    await this.audit(
      tx,
      serviceActor(ServiceName.Gateway),
      AuditAction.ApprovalExpired,
      r,
      r.correlationId,
      {},
    );
  }

  /**
   * Ends a request without releasing it. For a held order, risk owns the order's state: it is told (in the
   * same transaction, through the outbox) so the order leaves PENDING_APPROVAL for REJECTED.
   */
  private async close(tx: EntityManager, r: ApprovalRecord, outcome: ApprovalOutcome, reason: string) {
    await this.approvals.setStatus(tx, r.id, `${outcome}` as const, reason);
    if (r.kind !== ApprovalKind.Order) return;
    await this.outbox.add(tx, JobName.IntentNotApproved, {
      schemaVersion: SCHEMA_VERSION,
      correlationId: r.correlationId,
      intentId: r.subjectId,
      approvalId: r.id,
      outcome,
      reason: reason.slice(0, 500),
      at: new Date().toISOString(),
    });
  }

  private audit(
    tx: EntityManager,
    actor: Actor,
    action: AuditAction,
    r: ApprovalRecord,
    correlationId: string,
    payload: Record<string, unknown>,
  ) {
    return this.outbox.addAudit(tx, {
      actor,
      action,
      subject: { type: 'approval', id: r.id },
      payload: { kind: r.kind, subjectId: r.subjectId, ...payload },
      correlationId,
    });
  }

  private async view(r: ApprovalRecord): Promise<ApprovalView> {
    const decisions = await this.approvals.decisions(r.id);
    const denial = decisions.find((d) => d.decision === 'deny');
    return {
      id: r.id,
      kind: r.kind,
      status: r.status === 'pending' && r.expired ? 'expired' : r.status,
      statusReason: r.statusReason,
      subjectId: r.subjectId,
      action: shownAction(r.kind, JSON.parse(r.action)),
      context: JSON.parse(r.context) as unknown,
      requester: r.requester,
      requiredApprovals: r.requiredApprovals,
      approvals: decisions
        .filter((d) => d.decision === 'approve')
        .map((d) => ({ operatorId: d.operatorId, keyId: d.keyId, at: d.decidedAt.toISOString() })),
      denial: denial
        ? {
            operatorId: denial.operatorId,
            keyId: denial.keyId,
            reason: denial.reason,
            at: denial.decidedAt.toISOString(),
          }
        : null,
      createdAt: r.createdAt.toISOString(),
      expiresAt: r.expiresAt.toISOString(),
      decidedAt: r.decidedAt ? r.decidedAt.toISOString() : null,
      executedAt: r.executedAt ? r.executedAt.toISOString() : null,
    };
  }
}

export type ApprovalNotice = Omit<ApprovalNotify, 'schemaVersion' | 'correlationId'>;

function notificationOf(r: ApprovalRecord): ApprovalNotice {
  return {
    approvalId: r.id,
    kind: r.kind,
    summary: summarise(r.kind, JSON.parse(r.action)).slice(0, 500),
    requiredApprovals: r.requiredApprovals,
    expiresAt: r.expiresAt.toISOString(),
  };
}

/** Where the figures a request shows approvers differ from risk's (decimals compared as decimals). */
function figureDifferences(held: ApprovalHold, context: Record<string, unknown>): string[] {
  const out: string[] = [];
  const compare = (field: 'notional' | 'referencePrice', recorded: string | null) => {
    const shown = context[field];
    const same =
      recorded === null
        ? shown === undefined
        : typeof shown === 'string' && isDecimal(shown) && money(shown).eq(money(recorded));
    if (!same)
      out.push(`context.${field}: ${JSON.stringify(shown) ?? '(none)'} ≠ recorded ${recorded ?? '(none)'}`);
  };
  compare('notional', held.notional);
  compare('referencePrice', held.referencePrice);
  return out;
}

function isDecimal(value: string): boolean {
  return /^-?\d{1,40}(\.\d{1,40})?$/.test(value);
}

/** The operator an approved action would empower (a granted key's holder): they may not approve it. */
function beneficiaryOf(r: ApprovalRecord): string | undefined {
  if (r.kind !== ApprovalKind.KeyGrant) return undefined;
  const action = JSON.parse(r.action) as { operatorId?: unknown };
  return typeof action.operatorId === 'string' ? action.operatorId : undefined;
}

/** The action as approvers see it: a key's digest stays in the database (its key id identifies it). */
function shownAction(kind: ApprovalKind, action: unknown): unknown {
  if (kind !== ApprovalKind.KeyGrant || action === null || typeof action !== 'object') return action;
  const { digest: _digest, ...shown } = action as Record<string, unknown>;
  return shown;
}

function summarise(kind: ApprovalKind, action: unknown): string {
  const a = action as Record<string, unknown>;
  switch (kind) {
    case ApprovalKind.Order: {
      const o = (a.order ?? {}) as Record<string, string>;
      return `order ${o.side} ${o.quantity} ${o.symbol} ${o.type}${o.price ? ` @ ${o.price}` : ''}`;
    }
    case ApprovalKind.TradingResume:
      return `resume trading: ${String(a.reason)}`;
    case ApprovalKind.RaiseLimits:
      return `raise risk limits: ${JSON.stringify(a.limits)}`;
    case ApprovalKind.EnableLiveVenue:
      return `enable LIVE trading (real money) on ${String(a.venue)}: ${String(a.reason)}`;
    case ApprovalKind.KeyGrant:
      return `grant key ${String(a.keyId)} with roles ${JSON.stringify(a.roles)} to operator ${String(a.operatorId)}`;
    case ApprovalKind.OperatorCreate:
      return `create operator "${String(a.name)}" (${String(a.operatorId)})`;
    default: {
      const unreachable: never = kind;
      return String(unreachable);
    }
  }
}
