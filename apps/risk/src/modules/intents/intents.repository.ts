import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { IntentSubmitted, Money } from '@desk/contracts';
import { toWire } from '@desk/contracts';

export interface IntentDecisionRecord {
  status: 'ACCEPTED' | 'REJECTED';
  reasonCode: string | null;
  reason: string | null;
  notional: Money | null;
  referencePrice: Money | null;
  decidedAt: Date;
}

/** risk.intents: each intent with its decision, written once (the intent id is the primary key). */
@Injectable()
export class IntentsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** Returns false when the intent was already recorded (a redelivered job): nothing was written. */
  async insertDecided(
    tx: EntityManager,
    intent: IntentSubmitted,
    decision: IntentDecisionRecord,
  ): Promise<boolean> {
    const { order, actor } = intent;
    const rows: unknown[] = await tx.query(
      `INSERT INTO risk.intents
         (id, source, actor_type, actor_id, actor_key_id, symbol, side, type, quantity, price,
          status, reason_code, reason, notional, reference_price, correlation_id, submitted_at, decided_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
       ON CONFLICT (id) DO NOTHING
       RETURNING id`,
      [
        intent.intentId,
        intent.source,
        actor.type,
        actor.id,
        actor.keyId ?? null,
        order.symbol,
        order.side,
        order.type,
        order.quantity,
        order.price ?? null,
        decision.status,
        decision.reasonCode,
        decision.reason,
        decision.notional ? toWire(decision.notional) : null,
        decision.referencePrice ? toWire(decision.referencePrice) : null,
        intent.correlationId,
        intent.submittedAt,
        decision.decidedAt,
      ],
    );
    return rows.length > 0;
  }
}
