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

  /**
   * Records reports (one statement); returns the ids of those recorded now: one recorded before (a
   * redelivered job) is left as it was.
   */
  async recordReports(tx: EntityManager, reports: readonly ReportRecord[]): Promise<Set<string>> {
    if (!reports.length) return new Set();
    const rows: { id: string }[] = await tx.query(
      `INSERT INTO risk.execution_reports (id, intent_id, status, reason_code, is_error, at)
       SELECT id, intent_id, status, reason_code, is_error, at
         FROM jsonb_to_recordset($1::jsonb)
              AS r(id text, intent_id uuid, status text, reason_code text, is_error boolean, at timestamptz)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [
        JSON.stringify(
          reports.map((r) => ({
            ...r,
            intent_id: r.intentId,
            reason_code: r.reasonCode,
            is_error: r.isError,
          })),
        ),
      ],
    );
    return new Set(rows.map((r) => r.id));
  }

  /** Marks fills as counted (one statement); returns the ids of those not counted before. */
  async markFillsApplied(
    tx: EntityManager,
    fills: readonly { fillId: string; intentId: string }[],
  ): Promise<Set<string>> {
    if (!fills.length) return new Set();
    const rows: { fill_id: string }[] = await tx.query(
      `INSERT INTO risk.applied_fills (fill_id, intent_id)
       SELECT fill_id, intent_id FROM unnest($1::text[], $2::uuid[]) AS f(fill_id, intent_id)
       ON CONFLICT (fill_id) DO NOTHING RETURNING fill_id`,
      [fills.map((f) => f.fillId), fills.map((f) => f.intentId)],
    );
    return new Set(rows.map((r) => r.fill_id));
  }

  /** The symbols' positions, locked for the rest of the transaction (flat when there was none). */
  async lock(tx: EntityManager, symbols: readonly string[]): Promise<Map<string, Position>> {
    if (!symbols.length) return new Map();
    await tx.query(
      `INSERT INTO risk.positions (symbol, quantity) SELECT unnest($1::text[]), 0 ON CONFLICT (symbol) DO NOTHING`,
      [symbols],
    );
    const rows: PositionRow[] = await tx.query(
      `SELECT symbol, quantity::text, average_price::text, realized_pnl::text, fees_paid::text, episode
         FROM risk.positions WHERE symbol = ANY($1::text[]) ORDER BY symbol FOR UPDATE`,
      [symbols],
    );
    const positions = new Map(rows.map((r) => [r.symbol, toPosition(r)]));
    for (const symbol of symbols) {
      if (!positions.has(symbol)) throw new Error(`position ${symbol} vanished inside its transaction`);
    }
    return positions;
  }

  async save(tx: EntityManager, positions: readonly Position[]): Promise<void> {
    if (!positions.length) return;
    await tx.query(
      `UPDATE risk.positions p
          SET quantity = n.quantity, average_price = n.average_price, realized_pnl = n.realized_pnl,
              fees_paid = n.fees_paid, episode = n.episode, updated_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS n(symbol text, quantity numeric, average_price numeric,
                                                  realized_pnl numeric, fees_paid numeric, episode integer)
        WHERE p.symbol = n.symbol`,
      [
        JSON.stringify(
          positions.map((p) => ({
            symbol: p.symbol,
            quantity: toWire(p.quantity),
            average_price: toWire(p.averagePrice),
            realized_pnl: toWire(p.realizedPnl),
            fees_paid: toWire(p.feesPaid),
            episode: p.episode,
          })),
        ),
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
