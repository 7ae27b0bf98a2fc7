import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { ListBalancesQuery } from './balances.dto';

export interface BalanceRow {
  venue: string;
  asset: string;
  free: string;
  used: string;
  total: string;
  updated_at: Date;
}

/** Reads execution's balances (execution owns them, refreshed from the venue) through its declared view. */
@Injectable()
export class BalanceQueryRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  list(query: ListBalancesQuery): Promise<BalanceRow[]> {
    const where: string[] = [];
    const params: string[] = [];
    if (query.venue) where.push(`venue = $${params.push(query.venue)}`);
    if (query.asset) where.push(`asset = $${params.push(query.asset)}`);
    return this.db.query(
      `SELECT venue, asset, free::text, used::text, total::text, updated_at
         FROM execution.venue_balances ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY venue, asset`,
      params,
    );
  }
}
