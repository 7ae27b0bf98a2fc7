import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { ReconciliationView } from './reconciliations.dto';

interface ReconciliationRow {
  id: string;
  venue: string;
  trigger: string;
  started_at: Date;
  finished_at: Date;
  outcome: ReconciliationView['outcome'];
  findings: unknown;
}

/** Reads execution's reconciliation reports (execution owns them) through its declared view. */
@Injectable()
export class ReconciliationQueryRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Newest first: by when the run started, then by its id (a bigserial as text, so compared as a number). */
  async latest(limit: number): Promise<ReconciliationView[]> {
    const rows = await this.db.query<ReconciliationRow[]>(
      `SELECT id, venue, trigger, started_at, finished_at, outcome, findings
         FROM execution.reconciliation_reports
        ORDER BY started_at DESC, length(id) DESC, id DESC
        LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({
      id: r.id,
      venue: r.venue,
      trigger: r.trigger,
      startedAt: r.started_at.toISOString(),
      finishedAt: r.finished_at.toISOString(),
      outcome: r.outcome,
      findings: Array.isArray(r.findings) ? (r.findings as unknown[]) : [],
    }));
  }
}
