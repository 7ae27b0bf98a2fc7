import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { OrderStatus, RecordedOrder } from '@desk/contracts';
import { actorOfRow, orderOfRow, type OrderRow } from '@desk/platform';

/** An order risk held for the two-man rule, as risk recorded it (risk.approval_holds). */
export interface ApprovalHold extends RecordedOrder {
  /** Risk's current decision: PENDING_APPROVAL while the request is still wanted. */
  readonly decision: OrderStatus;
  /** The figures risk showed approvers (decimal strings as PostgreSQL gives them), or null. */
  readonly notional: string | null;
  readonly referencePrice: string | null;
}

/**
 * What risk holds for approval, read-only through the view risk declares for the gateway
 * (risk.approval_holds, docs/adr/0016): an approval request is opened only for an order risk holds.
 */
@Injectable()
export class ApprovalHoldsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async find(intentId: string): Promise<ApprovalHold | undefined> {
    const rows: (OrderRow & {
      decision: OrderStatus;
      notional: string | null;
      reference_price: string | null;
    })[] = await this.db.query(
      `SELECT decision, actor_type, actor_id, actor_key_id, symbol, side, type, quantity::text, price::text,
              time_in_force, post_only, notional::text, reference_price::text
         FROM risk.approval_holds WHERE intent_id = $1`,
      [intentId],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      decision: r.decision,
      actor: actorOfRow(r),
      order: orderOfRow(r),
      notional: r.notional,
      referencePrice: r.reference_price,
    };
  }
}
