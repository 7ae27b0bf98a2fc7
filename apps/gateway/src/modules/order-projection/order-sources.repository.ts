import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

export interface RecordedTransition {
  readonly status: string;
  readonly reasonCode: string | null;
}

export interface RecordedFill {
  readonly price: string;
  readonly quantity: string;
  readonly fee: string;
  readonly feeCurrency: string;
}

/**
 * What the owners recorded, read through the views they declare (docs/adr/0010): the gateway projects an
 * `order.updated` only if its owner recorded exactly that transition (and fill).
 */
@Injectable()
export class OrderSourcesRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async riskTransition(intentId: string, seq: string): Promise<RecordedTransition | undefined> {
    const rows: { status: string; reason_code: string | null }[] = await this.db.query(
      `SELECT status, reason_code FROM risk.intent_events_v WHERE id = $1 AND intent_id = $2`,
      [seq, intentId],
    );
    const r = rows[0];
    return r ? { status: r.status, reasonCode: r.reason_code } : undefined;
  }

  async executionTransition(orderId: string, seq: string): Promise<RecordedTransition | undefined> {
    const rows: { status: string }[] = await this.db.query(
      `SELECT status FROM execution.order_events_v WHERE id = $1 AND order_id = $2`,
      [seq, orderId],
    );
    const r = rows[0];
    return r ? { status: r.status, reasonCode: null } : undefined;
  }

  async fill(orderId: string, fillId: string): Promise<RecordedFill | undefined> {
    const rows: { price: string; quantity: string; fee: string; fee_currency: string }[] =
      await this.db.query(
        `SELECT price::text, quantity::text, fee::text, fee_currency FROM execution.fills_v
        WHERE id = $1 AND order_id = $2`,
        [fillId, orderId],
      );
    const r = rows[0];
    return r ? { price: r.price, quantity: r.quantity, fee: r.fee, feeCurrency: r.fee_currency } : undefined;
  }
}
