import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { returnedRows } from '@desk/platform';

export type SetupPhase = 'bootstrap' | 'operational';

export interface SetupRecord {
  phase: SetupPhase;
  openedAt: Date;
  closedAt: Date | null;
  closedBy: string | null;
}

interface Row {
  phase: SetupPhase;
  opened_at: Date;
  closed_at: Date | null;
  closed_by: string | null;
}

const toRecord = (r: Row): SetupRecord => ({
  phase: r.phase,
  openedAt: r.opened_at,
  closedAt: r.closed_at,
  closedBy: r.closed_by,
});

/** gateway.desk_setup: the one row saying whether the desk is still being set up. */
@Injectable()
export class SetupRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * The phase, read under a share lock when `lock` is 'share' (a change that depends on the phase: granting
   * without approval) or an update lock (closing): the two serialise, so nothing is granted by the
   * bootstrap rules after the phase closed.
   */
  async read(tx?: EntityManager, lock?: 'share' | 'update'): Promise<SetupRecord> {
    const suffix = lock === 'share' ? ' FOR SHARE' : lock === 'update' ? ' FOR UPDATE' : '';
    const rows: Row[] = await (tx ?? this.db).query(
      `SELECT phase, opened_at, closed_at, closed_by FROM gateway.desk_setup WHERE id = 1${suffix}`,
    );
    if (!rows[0]) throw new Error('gateway.desk_setup has no row: run the migrations');
    return toRecord(rows[0]);
  }

  async close(tx: EntityManager, by: string): Promise<SetupRecord> {
    const rows = returnedRows<Row>(
      await tx.query(
        `UPDATE gateway.desk_setup SET phase = 'operational', closed_at = now(), closed_by = $1
          WHERE id = 1 AND phase = 'bootstrap' RETURNING phase, opened_at, closed_at, closed_by`,
        [by],
      ),
    );
    if (!rows[0]) throw new Error('the setup phase changed while it was locked');
    return toRecord(rows[0]);
  }

  /** Active operators holding an active approver key, leaving one operator out (who would close setup). */
  async approversExcept(tx: EntityManager, operatorId: string | null): Promise<number> {
    const rows: { n: string }[] = await tx.query(
      `SELECT count(DISTINCT o.id) AS n FROM gateway.operators o JOIN gateway.api_keys k ON k.operator_id = o.id
        WHERE o.status = 'active' AND k.status = 'active' AND 'approver' = ANY (k.roles)
          AND (k.expires_at IS NULL OR k.expires_at > now()) AND o.id IS DISTINCT FROM $1::uuid`,
      [operatorId],
    );
    return Number(rows[0]?.n ?? 0);
  }
}
