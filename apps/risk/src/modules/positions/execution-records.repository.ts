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

  /** The order's symbol and side if execution recorded this status for it. */
  async status(intentId: string, status: string): Promise<RecordedStatus | undefined> {
    const rows: { symbol: string; side: string }[] = await this.db.query(
      `SELECT symbol, side FROM execution.order_status_history WHERE intent_id = $1 AND status = $2 LIMIT 1`,
      [intentId, status],
    );
    return rows[0];
  }

  async fill(fillId: string): Promise<RecordedFill | undefined> {
    const rows: {
      intent_id: string;
      symbol: string;
      side: string;
      price: string;
      quantity: string;
      fee: string;
      fee_currency: string;
    }[] = await this.db.query(
      `SELECT intent_id, symbol, side, price::text, quantity::text, fee::text, fee_currency
         FROM execution.order_fills WHERE fill_id = $1`,
      [fillId],
    );
    const r = rows[0];
    return r
      ? {
          fillId,
          intentId: r.intent_id,
          symbol: r.symbol,
          side: r.side,
          price: toWire(money(r.price)),
          quantity: toWire(money(r.quantity)),
          fee: toWire(money(r.fee)),
          feeCurrency: r.fee_currency,
        }
      : undefined;
  }
}
