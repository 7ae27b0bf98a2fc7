import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

export interface RecordedTransition {
  /** The order (intent) the event belongs to, lower case. */
  readonly orderId: string;
  readonly status: string;
  readonly reasonCode: string | null;
}

export interface RecordedFill {
  /** The order the fill belongs to, lower case. */
  readonly orderId: string;
  readonly price: string;
  readonly quantity: string;
  readonly fee: string;
  readonly feeCurrency: string;
}

/**
 * What the owners recorded, read through the views they declare (docs/adr/0010): the gateway projects an
 * `order.updated` only if its owner recorded exactly that transition (and fill). Each read takes the events
 * (or fills) of many updates at once, by their primary keys, in the order asked; undefined where the owner
 * recorded none.
 */
@Injectable()
export class OrderSourcesRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async riskTransitions(seqs: readonly string[]): Promise<(RecordedTransition | undefined)[]> {
    const rows: { id: string; intent_id: string; status: string; reason_code: string | null }[] =
      await this.db.query(
        `SELECT id::text, intent_id::text, status, reason_code FROM risk.intent_events_v
          WHERE id = ANY($1::bigint[])`,
        [seqs],
      );
    const byId = new Map(
      rows.map((r) => [r.id, { orderId: r.intent_id, status: r.status, reasonCode: r.reason_code }]),
    );
    return seqs.map((seq) => byId.get(seq));
  }

  async executionTransitions(seqs: readonly string[]): Promise<(RecordedTransition | undefined)[]> {
    const rows: { id: string; order_id: string; status: string }[] = await this.db.query(
      `SELECT id::text, order_id::text, status FROM execution.order_events_v WHERE id = ANY($1::bigint[])`,
      [seqs],
    );
    const byId = new Map(
      rows.map((r) => [r.id, { orderId: r.order_id, status: r.status, reasonCode: null }]),
    );
    return seqs.map((seq) => byId.get(seq));
  }

  async fills(fillIds: readonly string[]): Promise<(RecordedFill | undefined)[]> {
    const rows: {
      id: string;
      order_id: string;
      price: string;
      quantity: string;
      fee: string;
      fee_currency: string;
    }[] = await this.db.query(
      `SELECT id, order_id::text, price::text, quantity::text, fee::text, fee_currency FROM execution.fills_v
        WHERE id = ANY($1::text[])`,
      [fillIds],
    );
    const byId = new Map(
      rows.map((r) => [
        r.id,
        {
          orderId: r.order_id,
          price: r.price,
          quantity: r.quantity,
          fee: r.fee,
          feeCurrency: r.fee_currency,
        },
      ]),
    );
    return fillIds.map((id) => byId.get(id));
  }
}
