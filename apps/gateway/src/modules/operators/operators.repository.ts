import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { returnedRows } from '@desk/platform';

export type OperatorStatus = 'active' | 'disabled';

export interface OperatorRecord {
  id: string;
  name: string;
  status: OperatorStatus;
  createdAt: Date;
  createdBy: string;
  disabledAt: Date | null;
}

interface OperatorRow {
  id: string;
  name: string;
  status: OperatorStatus;
  created_at: Date;
  created_by: string;
  disabled_at: Date | null;
}

const toRecord = (r: OperatorRow): OperatorRecord => ({
  id: r.id,
  name: r.name,
  status: r.status,
  createdAt: r.created_at,
  createdBy: r.created_by,
  disabledAt: r.disabled_at,
});

@Injectable()
export class OperatorsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Returns undefined when the name is taken. */
  async insert(
    tx: EntityManager,
    o: { id: string; name: string; createdBy: string },
  ): Promise<OperatorRecord | undefined> {
    const rows: OperatorRow[] = await tx.query(
      `INSERT INTO gateway.operators (id, name, status, created_by) VALUES ($1, $2, 'active', $3)
       ON CONFLICT (name) DO NOTHING RETURNING *`,
      [o.id, o.name, o.createdBy],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async findByName(tx: EntityManager, name: string): Promise<OperatorRecord | undefined> {
    const rows: OperatorRow[] = await tx.query(`SELECT * FROM gateway.operators WHERE name = $1`, [name]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async find(id: string, tx: EntityManager | DataSource = this.db): Promise<OperatorRecord | undefined> {
    const rows: OperatorRow[] = await tx.query(`SELECT * FROM gateway.operators WHERE id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async list(): Promise<OperatorRecord[]> {
    const rows: OperatorRow[] = await this.db.query(
      `SELECT * FROM gateway.operators ORDER BY created_at, id`,
    );
    return rows.map(toRecord);
  }

  /** Returns the operator if this call disabled it, undefined if it was unknown or already disabled. */
  async disable(tx: EntityManager, id: string): Promise<OperatorRecord | undefined> {
    const rows = returnedRows<OperatorRow>(
      await tx.query(
        `UPDATE gateway.operators SET status = 'disabled', disabled_at = now() WHERE id = $1 AND status = 'active' RETURNING *`,
        [id],
      ),
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /**
   * Active admin keys of active operators, leaving out one key or one operator: a change that would bring
   * this to zero would lock every admin out. Callers hold the 'gateway.admin-keys' advisory lock.
   */
  async activeAdminKeysExcept(
    tx: EntityManager,
    except: { keyId?: string; operatorId?: string },
  ): Promise<number> {
    const rows: { n: string }[] = await tx.query(
      `SELECT count(*) AS n FROM gateway.api_keys k JOIN gateway.operators o ON o.id = k.operator_id
        WHERE 'admin' = ANY (k.roles) AND k.status = 'active' AND (k.expires_at IS NULL OR k.expires_at > now())
          AND o.status = 'active' AND k.id IS DISTINCT FROM $1::text AND o.id IS DISTINCT FROM $2::uuid`,
      [except.keyId ?? null, except.operatorId ?? null],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async lockAdminChanges(tx: EntityManager): Promise<void> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('gateway.admin-keys'))`);
  }

  async count(): Promise<number> {
    const rows: { n: string }[] = await this.db.query(`SELECT count(*) AS n FROM gateway.operators`);
    return Number(rows[0]?.n ?? 0);
  }
}
