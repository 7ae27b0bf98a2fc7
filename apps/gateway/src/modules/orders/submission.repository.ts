import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Actor, OrderParams } from '@desk/contracts';

export interface Submission {
  id: string;
  actor: Actor;
  idempotencyKey: string;
  order: OrderParams;
  correlationId: string;
  submittedAt: Date;
}

@Injectable()
export class SubmissionRepository {
  /**
   * Records an operator's submission and, in the same statement, the order's row in the gateway's
   * projection (gateway.orders): RECEIVED, the status its owners' updates then move forward.
   */
  async insert(tx: EntityManager, s: Submission): Promise<void> {
    await tx.query(
      `WITH s AS (
         INSERT INTO gateway.submissions
           (id, actor_id, actor_key_id, idempotency_key, symbol, side, type, quantity, price, correlation_id,
            submitted_at, time_in_force, post_only)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         RETURNING id, symbol, side, type, quantity, price, submitted_at, time_in_force, post_only)
       INSERT INTO gateway.orders
         (id, source, symbol, side, type, quantity, price, status, status_phase, status_seq, submitted_at,
          time_in_force, post_only)
       SELECT id, 'operator', symbol, side, type, quantity, price, 'RECEIVED', 0, 0, submitted_at, time_in_force,
              post_only
         FROM s`,
      [
        s.id,
        s.actor.id,
        s.actor.keyId ?? null,
        s.idempotencyKey,
        s.order.symbol,
        s.order.side,
        s.order.type,
        s.order.quantity,
        s.order.price ?? null,
        s.correlationId,
        s.submittedAt,
        // As sent (risk compares them with the intent's): none given stays null.
        s.order.timeInForce ?? null,
        s.order.postOnly ?? false,
      ],
    );
  }
}
