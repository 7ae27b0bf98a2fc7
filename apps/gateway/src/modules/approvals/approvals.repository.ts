import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { ApprovalKind } from '@desk/contracts';
import { returnedRows } from '@desk/platform';
import { observeApprovalDecision } from './approval-metrics';

export type ApprovalStatus = 'pending' | 'denied' | 'expired' | 'executed' | 'refused';

export interface ApprovalRecord {
  id: string;
  kind: ApprovalKind;
  subjectId: string;
  action: string;
  actionHash: string;
  context: string;
  requester: { type: 'operator' | 'service'; id: string; keyId: string | null };
  requiredApprovals: number;
  status: ApprovalStatus;
  statusReason: string | null;
  correlationId: string;
  createdAt: Date;
  expiresAt: Date;
  decidedAt: Date | null;
  executedAt: Date | null;
  expired: boolean;
}

export interface DecisionRecord {
  operatorId: string;
  keyId: string;
  decision: 'approve' | 'deny';
  reason: string | null;
  decidedAt: Date;
}

interface Row {
  id: string;
  kind: ApprovalKind;
  subject_id: string;
  action: string;
  action_hash: string;
  context: string;
  requester_type: 'operator' | 'service';
  requester_id: string;
  requester_key_id: string | null;
  required_approvals: number;
  status: ApprovalStatus;
  status_reason: string | null;
  correlation_id: string;
  created_at: Date;
  expires_at: Date;
  decided_at: Date | null;
  executed_at: Date | null;
  expired: boolean;
}

const SELECT = `SELECT r.*, r.expires_at <= now() AS expired FROM gateway.approval_requests r`;

const toRecord = (r: Row): ApprovalRecord => ({
  id: r.id,
  kind: r.kind,
  subjectId: r.subject_id,
  action: r.action,
  actionHash: r.action_hash,
  context: r.context,
  requester: { type: r.requester_type, id: r.requester_id, keyId: r.requester_key_id },
  requiredApprovals: r.required_approvals,
  status: r.status,
  statusReason: r.status_reason,
  correlationId: r.correlation_id,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  decidedAt: r.decided_at,
  executedAt: r.executed_at,
  expired: r.expired,
});

@Injectable()
export class ApprovalsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Returns undefined when a live request (pending or executed) already exists for this subject. */
  async insert(
    tx: EntityManager,
    r: Omit<
      ApprovalRecord,
      'status' | 'statusReason' | 'createdAt' | 'expiresAt' | 'decidedAt' | 'executedAt' | 'expired'
    > & {
      ttlSeconds: number;
    },
  ): Promise<ApprovalRecord | undefined> {
    const rows: Row[] = await tx.query(
      `INSERT INTO gateway.approval_requests
         (id, kind, subject_id, action, action_hash, context, requester_type, requester_id, requester_key_id,
          required_approvals, status, correlation_id, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', $11, now() + make_interval(secs => $12))
       ON CONFLICT (kind, subject_id) WHERE status IN ('pending', 'executed') DO NOTHING
       RETURNING *, false AS expired`,
      [
        r.id,
        r.kind,
        r.subjectId,
        r.action,
        r.actionHash,
        r.context,
        r.requester.type,
        r.requester.id,
        r.requester.keyId,
        r.requiredApprovals,
        r.correlationId,
        r.ttlSeconds,
      ],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async find(id: string): Promise<ApprovalRecord | undefined> {
    const rows: Row[] = await this.db.query(`${SELECT} WHERE r.id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async findBySubject(kind: ApprovalKind, subjectId: string): Promise<ApprovalRecord | undefined> {
    const rows: Row[] = await this.db.query(
      `${SELECT} WHERE r.kind = $1 AND r.subject_id = $2 ORDER BY r.created_at DESC LIMIT 1`,
      [kind, subjectId],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** Locks the request: every decision on one request is serialised, so quorum releases it once. */
  async lock(tx: EntityManager, id: string): Promise<ApprovalRecord | undefined> {
    const rows: Row[] = await tx.query(`${SELECT} WHERE r.id = $1 FOR UPDATE`, [id]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async list(
    status: ApprovalStatus | undefined,
    limit: number,
    before?: { at: string; id: string },
  ): Promise<(ApprovalRecord & { cursorAt: string })[]> {
    const rows: (Row & { cursor_at: string })[] = await this.db.query(
      `SELECT r.*, r.expires_at <= now() AS expired,
              to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
         FROM gateway.approval_requests r
        WHERE ($1::text IS NULL OR r.status = $1)
          AND ($2::timestamptz IS NULL OR (r.created_at, r.id) < ($2::timestamptz, $3::uuid))
        ORDER BY r.created_at DESC, r.id DESC LIMIT $4`,
      [status ?? null, before?.at ?? null, before?.id ?? null, limit],
    );
    return rows.map((r) => ({ ...toRecord(r), cursorAt: r.cursor_at }));
  }

  /** Records a decision; a second decision by the same operator (any key) is ignored. */
  async decide(
    tx: EntityManager,
    d: {
      requestId: string;
      operatorId: string;
      keyId: string;
      decision: 'approve' | 'deny';
      reason: string | null;
    },
  ): Promise<boolean> {
    const rows: unknown[] = await tx.query(
      `INSERT INTO gateway.approval_decisions (request_id, operator_id, key_id, decision, reason)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (request_id, operator_id) DO NOTHING RETURNING request_id`,
      [d.requestId, d.operatorId, d.keyId, d.decision, d.reason],
    );
    return rows.length > 0;
  }

  async decisions(requestId: string, tx: EntityManager | DataSource = this.db): Promise<DecisionRecord[]> {
    const rows: {
      operator_id: string;
      key_id: string;
      decision: 'approve' | 'deny';
      reason: string | null;
      decided_at: Date;
    }[] = await tx.query(
      `SELECT operator_id, key_id, decision, reason, decided_at FROM gateway.approval_decisions WHERE request_id = $1 ORDER BY decided_at`,
      [requestId],
    );
    return rows.map((r) => ({
      operatorId: r.operator_id,
      keyId: r.key_id,
      decision: r.decision,
      reason: r.reason,
      decidedAt: r.decided_at,
    }));
  }

  /** Approvals that count now: distinct approvers, not the requester, whose key and operator are still active. */
  async validApprovals(tx: EntityManager, requestId: string): Promise<number> {
    const rows: { valid_approvals: number }[] = await tx.query(
      `SELECT valid_approvals FROM gateway.approval_validity WHERE id = $1`,
      [requestId],
    );
    return rows[0]?.valid_approvals ?? 0;
  }

  async setStatus(
    tx: EntityManager,
    id: string,
    status: Exclude<ApprovalStatus, 'pending'>,
    reason: string | null,
  ): Promise<void> {
    const rows = returnedRows<{ kind: string; seconds: string; first: boolean }>(
      await tx.query(
        `UPDATE gateway.approval_requests
          SET status = $2, status_reason = $3, decided_at = COALESCE(decided_at, now()),
              executed_at = CASE WHEN $2 = 'executed' THEN now() ELSE executed_at END
        WHERE id = $1
        RETURNING kind, extract(epoch FROM decided_at - created_at)::text AS seconds, decided_at = now() AS first`,
        [id, status, reason],
      ),
    );
    const row = rows[0];
    // The request left pending in this transaction: its time to decision.
    if (row?.first) observeApprovalDecision(row.kind, status, Number(row.seconds));
  }

  /** Pending requests by kind (metrics). */
  async pendingCounts(): Promise<{ kind: string; pending: number }[]> {
    const rows: { kind: string; pending: string }[] = await this.db.query(
      `SELECT kind, count(*)::text AS pending FROM gateway.approval_requests WHERE status = 'pending' GROUP BY kind`,
    );
    return rows.map((r) => ({ kind: r.kind, pending: Number(r.pending) }));
  }

  /** Pending requests past their expiry, locked for the sweeper (skipping ones being decided right now). */
  async lockExpired(tx: EntityManager, limit: number): Promise<ApprovalRecord[]> {
    const rows = returnedRows<Row>(
      await tx.query(
        `${SELECT} WHERE r.status = 'pending' AND r.expires_at <= now() ORDER BY r.expires_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      ),
    );
    return rows.map(toRecord);
  }
}
