import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { money, toWire, type Money } from '@desk/contracts';
import type { VenueBalance } from '../exchange/exchange-adapter';

/** The kinds of difference reconciliation reports (docs/runbook.md, "Orders at a venue"). */
export const FINDING_KINDS = [
  'order_status',
  'terminal_order_open_at_venue',
  'foreign_open_order',
  'missing_fill',
  'fill_on_closed_order',
  'foreign_trade',
  'balance_drift',
  'reconciliation_failed',
] as const;

/** One difference between the desk's book and the venue, and what reconciliation did about it. */
export interface ReconciliationFinding {
  readonly kind: (typeof FINDING_KINDS)[number];
  /**
   * What the difference is about (an order, a venue order, a trade, an asset's drift): a difference that
   * persists across runs keeps its key, so risk's breaker counts it once.
   */
  readonly key: string;
  /** The desk's order it concerns, if any. */
  readonly orderId?: string;
  readonly detail: string;
  /** What was done: the venue's truth applied, or why it was not. */
  readonly action: string;
  readonly figures?: Record<string, string>;
}

export interface StoredBalance {
  readonly asset: string;
  readonly total: Money;
  readonly updatedAt: Date;
}

/** execution.balances and execution.reconciliations (shown to the gateway through their views). */
@Injectable()
export class ReconciliationRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  async balances(venue: string): Promise<StoredBalance[]> {
    const rows: { asset: string; total: string; updated_at: Date }[] = await this.db.query(
      `SELECT asset, total::text, updated_at FROM execution.balances WHERE venue = $1`,
      [venue],
    );
    return rows.map((r) => ({ asset: r.asset, total: money(r.total), updatedAt: r.updated_at }));
  }

  /** The venue's balances replace the stored ones (the venue's truth). */
  async saveBalances(tx: EntityManager, venue: string, balances: readonly VenueBalance[]): Promise<void> {
    await tx.query(`DELETE FROM execution.balances WHERE venue = $1`, [venue]);
    for (const b of balances) {
      await tx.query(
        `INSERT INTO execution.balances (venue, asset, free, used, total) VALUES ($1, $2, $3, $4, $5)`,
        [venue, b.asset, toWire(b.free), toWire(b.used), toWire(b.total)],
      );
    }
  }

  /**
   * How the desk's own fills since a time moved each asset: a buy adds base and spends quote, a sell the
   * reverse, fees leave in their currency.
   */
  async fillMovements(since: Date): Promise<Map<string, Money>> {
    const rows: { asset: string; moved: string }[] = await this.db.query(
      `WITH legs AS (
         SELECT split_part(symbol, '/', 1) AS asset, CASE WHEN side = 'buy' THEN quantity ELSE -quantity END AS moved
           FROM execution.fills WHERE at > $1
         UNION ALL
         SELECT split_part(symbol, '/', 2), CASE WHEN side = 'buy' THEN -(price * quantity) ELSE price * quantity END
           FROM execution.fills WHERE at > $1
         UNION ALL
         SELECT fee_currency, -fee FROM execution.fills WHERE at > $1 AND fee_currency <> ''
       )
       SELECT asset, sum(moved)::text AS moved FROM legs GROUP BY asset`,
      [since],
    );
    return new Map(rows.map((r) => [r.asset, money(r.moved)]));
  }

  /** Symbols the desk traded since a time (whose trades reconciliation lists at the venue). */
  async tradedSymbols(since: Date): Promise<string[]> {
    const rows: { symbol: string }[] = await this.db.query(
      `SELECT DISTINCT symbol FROM execution.orders WHERE updated_at >= $1 ORDER BY symbol`,
      [since],
    );
    return rows.map((r) => r.symbol);
  }

  async record(
    tx: EntityManager,
    run: {
      venue: string;
      trigger: string;
      startedAt: Date;
      finishedAt: Date;
      outcome: 'in_sync' | 'differences' | 'failed';
      findings: readonly ReconciliationFinding[];
    },
  ): Promise<string> {
    const rows: { id: string }[] = await tx.query(
      `INSERT INTO execution.reconciliations (venue, trigger, started_at, finished_at, outcome, findings)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING id::text AS id`,
      [run.venue, run.trigger, run.startedAt, run.finishedAt, run.outcome, JSON.stringify(run.findings)],
    );
    const id = rows[0]?.id;
    if (!id) throw new Error('the reconciliation was not recorded');
    return id;
  }
}
