import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { OrderStatus, ServiceName, type OrderParams, type OrderUpdated } from '@desk/contracts';

/** Which owner's event set a status: a later phase, or a later event of the same owner, moves it forward. */
const PHASE = { received: 0, [ServiceName.Risk]: 1, [ServiceName.Execution]: 2 } as const;

/**
 * gateway.orders, order_events and order_fills: the gateway's one projection of every order, written from
 * the owners' `order.updated` jobs (and the RECEIVED row of the gateway's own submissions).
 */
@Injectable()
export class OrderProjectionRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** An operator's order as the gateway accepted it: RECEIVED, in the submission's transaction. */
  async received(tx: EntityManager, id: string, order: OrderParams, submittedAt: Date): Promise<void> {
    await tx.query(
      `INSERT INTO gateway.orders
         (id, source, symbol, side, type, quantity, price, status, status_phase, status_seq, submitted_at,
          time_in_force, post_only)
       VALUES ($1, 'operator', $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $11)`,
      [
        id,
        order.symbol,
        order.side,
        order.type,
        order.quantity,
        order.price ?? null,
        OrderStatus.Received,
        PHASE.received,
        submittedAt,
        order.timeInForce ?? null,
        order.postOnly ?? false,
      ],
    );
  }

  /**
   * Applies one owner's transition: its event once (a redelivery adds nothing and returns false), the
   * order's row created if this is the first word of it, and its status moved only forward.
   */
  async apply(tx: EntityManager, u: OrderUpdated): Promise<boolean> {
    const inserted: unknown[] = await tx.query(
      `INSERT INTO gateway.order_events (order_id, owner, seq, status, reason_code, detail, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT DO NOTHING RETURNING 1`,
      [u.intentId, u.owner, u.seq, u.status, u.reasonCode ?? null, u.detail ?? null, u.at],
    );
    if (inserted.length === 0) return false;
    await tx.query(
      `INSERT INTO gateway.orders AS o
         (id, source, symbol, side, type, quantity, price, status, status_phase, status_seq, reason_code,
          submitted_at, time_in_force, post_only)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (id) DO UPDATE SET
         source = COALESCE(o.source, EXCLUDED.source),
         submitted_at = LEAST(o.submitted_at, EXCLUDED.submitted_at),
         status = CASE WHEN (EXCLUDED.status_phase, EXCLUDED.status_seq) > (o.status_phase, o.status_seq)
                       THEN EXCLUDED.status ELSE o.status END,
         reason_code = CASE WHEN (EXCLUDED.status_phase, EXCLUDED.status_seq) > (o.status_phase, o.status_seq)
                            THEN EXCLUDED.reason_code ELSE o.reason_code END,
         status_seq = CASE WHEN (EXCLUDED.status_phase, EXCLUDED.status_seq) > (o.status_phase, o.status_seq)
                           THEN EXCLUDED.status_seq ELSE o.status_seq END,
         status_phase = GREATEST(o.status_phase, EXCLUDED.status_phase),
         updated_at = now()`,
      [
        u.intentId,
        u.source ?? null,
        u.order.symbol,
        u.order.side,
        u.order.type,
        u.order.quantity,
        u.order.price ?? null,
        u.status,
        PHASE[u.owner],
        u.seq,
        u.reasonCode ?? null,
        u.submittedAt ?? u.at,
        u.order.timeInForce ?? null,
        u.order.postOnly ?? false,
      ],
    );
    if (u.fill) {
      await tx.query(
        `INSERT INTO gateway.order_fills (id, order_id, price, quantity, fee, fee_currency, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
        [u.fill.fillId, u.intentId, u.fill.price, u.fill.quantity, u.fill.fee, u.fill.feeCurrency, u.fill.at],
      );
    }
    return true;
  }
}
