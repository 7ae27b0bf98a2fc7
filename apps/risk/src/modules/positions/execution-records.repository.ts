import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { money, toWire, type ExecutionReported } from '@desk/contracts';

export interface RecordedStatus {
  readonly symbol: string;
  readonly side: string;
}

export type RecordedFill = NonNullable<ExecutionReported['fill']> & {
  readonly intentId: string;
  readonly symbol: string;
  readonly side: string;
};

/**
 * What execution recorded about its orders, read-only through the views it declares for risk
 * (docs/adr/0010): execution.order_status_history and execution.order_fills.
 */
@Injectable()
export class ExecutionRecordsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * The symbol and side of each order that execution recorded in the given status, keyed by
   * statusKey(intentId, status); a pair execution never recorded has no entry. One read for a batch.
   */
  async statuses(
    reported: readonly { intentId: string; status: string }[],
  ): Promise<Map<string, RecordedStatus>> {
    if (!reported.length) return new Map();
    const rows: { intent_id: string; status: string; symbol: string; side: string }[] = await this.db.query(
      `SELECT DISTINCT ON (h.intent_id, h.status) h.intent_id, h.status, h.symbol, h.side
         FROM execution.order_status_history h
         JOIN unnest($1::uuid[], $2::text[]) AS r(intent_id, status)
           ON h.intent_id = r.intent_id AND h.status = r.status`,
      [reported.map((r) => r.intentId), reported.map((r) => r.status)],
    );
    return new Map(rows.map((r) => [statusKey(r.intent_id, r.status), { symbol: r.symbol, side: r.side }]));
  }

  /** The fills execution recorded, by fill id; one it never recorded has no entry. One read for a batch. */
  async fills(fillIds: readonly string[]): Promise<Map<string, RecordedFill>> {
    if (!fillIds.length) return new Map();
    const rows: {
      fill_id: string;
      intent_id: string;
      symbol: string;
      side: string;
      price: string;
      quantity: string;
      fee: string;
      fee_currency: string;
    }[] = await this.db.query(
      `SELECT fill_id, intent_id, symbol, side, price::text, quantity::text, fee::text, fee_currency
         FROM execution.order_fills WHERE fill_id = ANY($1::text[])`,
      [fillIds],
    );
    return new Map(
      rows.map((r) => [
        r.fill_id,
        {
          fillId: r.fill_id,
          intentId: r.intent_id,
          symbol: r.symbol,
          side: r.side,
          price: toWire(money(r.price)),
          quantity: toWire(money(r.quantity)),
          fee: toWire(money(r.fee)),
          feeCurrency: r.fee_currency,
        },
      ]),
    );
  }
}

/** How statuses() keys an order's recorded status. */
export function statusKey(intentId: string, status: string): string {
  return `${intentId.toLowerCase()}/${status}`;
}
