import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

export interface PositionRow {
  symbol: string;
  quantity: string;
  average_price: string;
  realized_pnl: string;
  fees_paid: string;
  updated_at: Date;
}

/** Reads execution's positions (execution owns and writes them). */
@Injectable()
export class PositionQueryRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  all(): Promise<PositionRow[]> {
    return this.db.query(
      `SELECT symbol, quantity::text, average_price::text, realized_pnl::text, fees_paid::text, updated_at
         FROM execution.positions_v ORDER BY symbol`,
    );
  }
}
