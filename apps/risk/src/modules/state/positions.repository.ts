import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { money, toWire, type OrderStatus } from '@desk/contracts';
import { Position } from './position';

interface PositionRow {
  symbol: string;
  quantity: string;
  average_price: string;
  realized_pnl: string;
  fees_paid: string;
  episode: number;
}

export interface ReportRecord {
  /** The report's job id: `<intentId>.<status>[.<fillId>]`. */
  readonly id: string;
  readonly intentId: string;
  readonly status: OrderStatus;
  readonly reasonCode: string | null;
  readonly isError: boolean;
  readonly at: Date;
}

export interface ErrorStats {
  /** Orders execution reported on in the window. */
  readonly orders: number;
  /** Of those, orders with a failure (UNKNOWN at the venue, or refused for an invalid approval). */
  readonly failed: number;
}

/**
 * risk.positions (risk's own view, from execution reports only), risk.applied_fills (fills already
 * counted) and risk.execution_reports (every report once; the error-rate breaker counts them).
 */
@Injectable()
export class PositionsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  async all(tx?: EntityManager): Promise<Position[]> {
    const rows: PositionRow[] = await (tx ?? this.db).query(
      `SELECT symbol, quantity::text, average_price::text, realized_pnl::text, fees_paid::text, episode
         FROM risk.positions ORDER BY symbol`,
    );
    return rows.map(toPosition);
  }

  /** Returns false when this report was already recorded (a redelivered job). */
  async recordReport(tx: EntityManager, report: ReportRecord): Promise<boolean> {
    const rows: unknown[] = await tx.query(
      `INSERT INTO risk.execution_reports (id, intent_id, status, reason_code, is_error, at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING RETURNING id`,
      [report.id, report.intentId, report.status, report.reasonCode, report.isError, report.at],
    );
    return rows.length > 0;
  }

  /** Marks a fill as counted; false when it already was. */
  async markFillApplied(tx: EntityManager, fillId: string, intentId: string): Promise<boolean> {
    const rows: unknown[] = await tx.query(
      `INSERT INTO risk.applied_fills (fill_id, intent_id) VALUES ($1, $2)
       ON CONFLICT (fill_id) DO NOTHING RETURNING fill_id`,
      [fillId, intentId],
    );
    return rows.length > 0;
  }

  /** The symbol's position, locked for the rest of the transaction (flat when there was none). */
  async lock(tx: EntityManager, symbol: string): Promise<Position> {
    await tx.query(
      `INSERT INTO risk.positions (symbol, quantity) VALUES ($1, 0) ON CONFLICT (symbol) DO NOTHING`,
      [symbol],
    );
    const rows: PositionRow[] = await tx.query(
      `SELECT symbol, quantity::text, average_price::text, realized_pnl::text, fees_paid::text, episode
         FROM risk.positions WHERE symbol = $1 FOR UPDATE`,
      [symbol],
    );
    const row = rows[0];
    if (!row) throw new Error(`position ${symbol} vanished inside its transaction`);
    return toPosition(row);
  }

  async save(tx: EntityManager, p: Position): Promise<void> {
    await tx.query(
      `UPDATE risk.positions
          SET quantity = $2, average_price = $3, realized_pnl = $4, fees_paid = $5, episode = $6, updated_at = now()
        WHERE symbol = $1`,
      [
        p.symbol,
        toWire(p.quantity),
        toWire(p.averagePrice),
        toWire(p.realizedPnl),
        toWire(p.feesPaid),
        p.episode,
      ],
    );
  }

  /**
   * Orders reported since a time, and the failed ones: orders whose reports were errors, plus each
   * reconciliation finding about no desk order (an order or trade on the account the desk did not place,
   * balance drift, a reconciliation that failed: execution.reconciliation_reports), each distinct difference
   * once however many runs see it.
   */
  async errorStats(since: Date): Promise<ErrorStats> {
    const rows: { orders: number; failed: number; findings: number }[] = await this.db.query(
      `SELECT count(DISTINCT intent_id)::int AS orders,
              count(DISTINCT intent_id) FILTER (WHERE is_error)::int AS failed,
              (SELECT count(DISTINCT (f->>'kind') || ':' || (f->>'key'))::int
                 FROM execution.reconciliation_reports r, jsonb_array_elements(r.findings) f
                WHERE r.finished_at > $1 AND NOT f ? 'orderId') AS findings
         FROM risk.execution_reports WHERE at > $1`,
      [since],
    );
    const findings = rows[0]?.findings ?? 0;
    return { orders: (rows[0]?.orders ?? 0) + findings, failed: (rows[0]?.failed ?? 0) + findings };
  }
}

function toPosition(r: PositionRow): Position {
  return new Position(
    r.symbol,
    money(r.quantity),
    money(r.average_price),
    money(r.realized_pnl),
    money(r.fees_paid),
    r.episode,
  );
}
