import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Actor, OrderParams } from '@desk/contracts';
import { actorOfRow, orderOfRow, type OrderRow } from '@desk/platform';

export interface UndeliveredAcceptance {
  intentId: string;
  actor: Actor;
  order: OrderParams;
  approvalId: string | null;
  reduceOnly: boolean;
  correlationId: string;
  decidedAt: Date;
}

export interface UnrequestedHold {
  intentId: string;
  actor: Actor;
  order: OrderParams;
  notional: string | null;
  referencePrice: string | null;
  correlationId: string;
  decidedAt: Date;
}

/**
 * Orders risk accepted that execution never recorded (execution.order_status_history, its declared view),
 * decided more than `afterMs` ago and within a day (jobs are kept a day).
 */
@Injectable()
export class DecisionRedriveRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async acceptedNotRecorded(afterMs: number, limit: number): Promise<UndeliveredAcceptance[]> {
    const rows: (OrderRow & {
      id: string;
      approval_id: string | null;
      reduce_only: boolean;
      correlation_id: string;
      decided_at: Date;
    })[] = await this.db.query(
      `SELECT i.id, i.actor_type, i.actor_id, i.actor_key_id, i.symbol, i.side, i.type, i.quantity::text,
              i.price::text, i.approval_id, i.reduce_only, i.correlation_id, i.decided_at
         FROM risk.intents i
        WHERE i.status = 'ACCEPTED' AND i.execution_status IS NULL
          AND i.submitted_at > now() - interval '23 hours'
          AND i.decided_at < now() - make_interval(secs => $1 / 1000.0)
          AND NOT EXISTS (SELECT 1 FROM execution.order_status_history h WHERE h.intent_id = i.id)
        ORDER BY i.decided_at LIMIT $2`,
      [afterMs, limit],
    );
    return rows.map((r) => ({
      intentId: r.id,
      actor: actorOfRow(r),
      order: orderOfRow(r),
      approvalId: r.approval_id,
      reduceOnly: r.reduce_only,
      correlationId: r.correlation_id,
      decidedAt: r.decided_at,
    }));
  }

  /**
   * Orders risk holds for approval (PENDING_APPROVAL) for which the gateway recorded no approval request
   * (gateway.approval_validity), decided more than `afterMs` ago and within a day.
   */
  async heldNotRequested(afterMs: number, limit: number): Promise<UnrequestedHold[]> {
    const rows: (OrderRow & {
      id: string;
      notional: string | null;
      reference_price: string | null;
      correlation_id: string;
      decided_at: Date;
    })[] = await this.db.query(
      `SELECT i.id, i.actor_type, i.actor_id, i.actor_key_id, i.symbol, i.side, i.type, i.quantity::text,
              i.price::text, i.notional::text, i.reference_price::text, i.correlation_id, i.decided_at
         FROM risk.intents i
        WHERE i.status = 'PENDING_APPROVAL'
          AND i.submitted_at > now() - interval '23 hours'
          AND i.decided_at < now() - make_interval(secs => $1 / 1000.0)
          AND NOT EXISTS (SELECT 1 FROM gateway.approval_validity v
                           WHERE v.kind = 'order' AND v.subject_id = i.id::text)
        ORDER BY i.decided_at LIMIT $2`,
      [afterMs, limit],
    );
    return rows.map((r) => ({
      intentId: r.id,
      actor: actorOfRow(r),
      order: orderOfRow(r),
      notional: r.notional,
      referencePrice: r.reference_price,
      correlationId: r.correlation_id,
      decidedAt: r.decided_at,
    }));
  }
}
