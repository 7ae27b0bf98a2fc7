import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Actor, OrderCancelRequested, OrderStatus } from '@desk/contracts';

export type CancelTarget = OrderCancelRequested['target'];

export interface CancelRequestRecord {
  id: string;
  actor: Actor;
  target: CancelTarget;
  requestedAt: Date;
  correlationId: string;
}

/**
 * gateway.cancel_requests (read by execution through gateway.cancel_request_sources, docs/adr/0010): the
 * record is written in the transaction that adds the outbox job, so when execution sees the job the record
 * it checks the job against is committed.
 */
@Injectable()
export class CancelRequestsRepository {
  /**
   * The order's status in the projection, its row locked until the transaction ends: two cancels of one
   * order at once take turns, so the second finds the first's request.
   */
  async lockOrder(tx: EntityManager, orderId: string): Promise<OrderStatus | undefined> {
    const rows = await tx.query<{ status: OrderStatus }[]>(
      `SELECT status FROM gateway.orders WHERE id = $1 FOR UPDATE`,
      [orderId],
    );
    return rows[0]?.status;
  }

  /** Serialises cancels of one symbol for the rest of the transaction (no row to lock for a symbol). */
  async lockSymbol(tx: EntityManager, symbol: string): Promise<void> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('gateway.cancel_requests:' || $1))`, [symbol]);
  }

  /** The newest request for this target that execution has not run yet (no receipt), if any. */
  async pending(tx: EntityManager, target: CancelTarget): Promise<{ id: string } | undefined> {
    const [column, value] =
      target.kind === 'order' ? ['intent_id', target.intentId] : ['symbol', target.symbol];
    const rows = await tx.query<{ id: string }[]>(
      `SELECT c.id FROM gateway.cancel_requests c
        WHERE c.target_kind = $1 AND c.${column} = $2
          AND NOT EXISTS (SELECT 1 FROM execution.cancel_request_receipts r WHERE r.request_id = c.id)
        ORDER BY c.requested_at DESC LIMIT 1`,
      [target.kind, value],
    );
    return rows[0];
  }

  async insert(tx: EntityManager, r: CancelRequestRecord): Promise<void> {
    await tx.query(
      `INSERT INTO gateway.cancel_requests
         (id, actor_type, actor_id, actor_key_id, target_kind, intent_id, symbol, requested_at, correlation_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        r.id,
        r.actor.type,
        r.actor.id,
        r.actor.keyId ?? null,
        r.target.kind,
        r.target.kind === 'order' ? r.target.intentId : null,
        r.target.kind === 'symbol' ? r.target.symbol : null,
        r.requestedAt,
        r.correlationId,
      ],
    );
  }
}
