import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { money, toWire } from '@desk/contracts';
import { LIMIT_NAMES, isLimitName, type LimitChange, type LimitName, type RiskLimitValues } from './limits';

export interface LimitRow {
  readonly name: LimitName;
  readonly value: string;
  /** 'default' (migration), 'config' (the service's environment), or who changed it. */
  readonly updatedBy: string;
}

/** risk.limits: one row per numeric limit; the table is the truth. */
@Injectable()
export class LimitsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  async values(tx?: EntityManager): Promise<RiskLimitValues> {
    return toValues(await this.rows(tx));
  }

  /** Every row, locked for the rest of the transaction when `lock` (limit changes take turns). */
  async rows(tx?: EntityManager, lock = false): Promise<LimitRow[]> {
    const rows: { name: string; value: string; updated_by: string }[] = await (tx ?? this.db).query(
      `SELECT name, value::text, updated_by FROM risk.limits ORDER BY name ${lock ? 'FOR UPDATE' : ''}`,
    );
    return rows
      .filter((r): r is typeof r & { name: LimitName } => isLimitName(r.name))
      .map((r) => ({ name: r.name, value: r.value, updatedBy: r.updated_by }));
  }

  /** The limits' version: the highest revision (every change bumps it). A limit raise names it. */
  async version(tx?: EntityManager): Promise<string> {
    const rows: { version: string }[] = await (tx ?? this.db).query(
      `SELECT COALESCE(max(revision), 0)::text AS version FROM risk.limits`,
    );
    return rows[0]?.version ?? '0';
  }

  async update(tx: EntityManager, changes: readonly LimitChange[], updatedBy: string): Promise<void> {
    for (const c of changes) {
      await tx.query(
        `UPDATE risk.limits
            SET value = $2, updated_by = $3, updated_at = now(), revision = nextval('risk.limits_revision_seq')
          WHERE name = $1`,
        [c.name, toWire(c.to), updatedBy],
      );
    }
  }
}

export function toValues(rows: readonly LimitRow[]): RiskLimitValues {
  const byName = new Map(rows.map((r) => [r.name, money(r.value)]));
  const missing = LIMIT_NAMES.filter((n) => !byName.has(n));
  if (missing.length)
    throw new Error(`risk.limits has no row for ${missing.join(', ')}: run the risk migrations`);
  return Object.fromEntries(LIMIT_NAMES.map((n) => [n, byName.get(n)])) as unknown as RiskLimitValues;
}
