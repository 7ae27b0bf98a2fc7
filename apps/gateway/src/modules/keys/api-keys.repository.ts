import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { returnedRows } from '@desk/platform';
import type { Role } from '../access/role';

export type KeyStatus = 'active' | 'revoked';

export interface ApiKeyRecord {
  id: string;
  operatorId: string;
  roles: Role[];
  label: string;
  status: KeyStatus;
  expiresAt: Date | null;
  createdAt: Date;
  createdBy: string;
  revokedAt: Date | null;
  revokedBy: string | null;
  rotatedTo: string | null;
}

/** What authentication needs to know about a presented key, in one query. */
export interface KeyCredential extends ApiKeyRecord {
  digest: Buffer;
  operatorName: string;
  operatorStatus: 'active' | 'disabled';
  expired: boolean;
}

interface KeyRow {
  id: string;
  operator_id: string;
  roles: Role[];
  label: string;
  status: KeyStatus;
  expires_at: Date | null;
  created_at: Date;
  created_by: string;
  revoked_at: Date | null;
  revoked_by: string | null;
  rotated_to: string | null;
}

const COLUMNS = `k.id, k.operator_id, k.roles, k.label, k.status, k.expires_at, k.created_at, k.created_by,
                 k.revoked_at, k.revoked_by, k.rotated_to`;

const toRecord = (r: KeyRow): ApiKeyRecord => ({
  id: r.id,
  operatorId: r.operator_id,
  roles: r.roles,
  label: r.label,
  status: r.status,
  expiresAt: r.expires_at,
  createdAt: r.created_at,
  createdBy: r.created_by,
  revokedAt: r.revoked_at,
  revokedBy: r.revoked_by,
  rotatedTo: r.rotated_to,
});

@Injectable()
export class ApiKeysRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async insert(
    tx: EntityManager,
    k: {
      id: string;
      operatorId: string;
      digest: Buffer;
      roles: readonly Role[];
      label: string;
      expiresAt: Date | null;
      createdBy: string;
    },
  ): Promise<ApiKeyRecord> {
    const rows: KeyRow[] = await tx.query(
      `INSERT INTO gateway.api_keys AS k (id, operator_id, digest, roles, label, status, expires_at, created_by)
       VALUES ($1, $2, $3, $4, $5, 'active', $6, $7) RETURNING ${COLUMNS}`,
      [k.id, k.operatorId, k.digest, k.roles, k.label, k.expiresAt, k.createdBy],
    );
    return toRecord(rows[0]!);
  }

  /** Read on every request: revocation, expiry and operator status take effect at once on every instance. */
  async credential(keyId: string): Promise<KeyCredential | undefined> {
    const rows: (KeyRow & {
      digest: Buffer;
      operator_name: string;
      operator_status: 'active' | 'disabled';
      expired: boolean;
    })[] = await this.db.query(
      `SELECT ${COLUMNS}, k.digest, o.name AS operator_name, o.status AS operator_status,
                (k.expires_at IS NOT NULL AND k.expires_at <= now()) AS expired
           FROM gateway.api_keys k JOIN gateway.operators o ON o.id = k.operator_id
          WHERE k.id = $1`,
      [keyId],
    );
    const r = rows[0];
    return r
      ? {
          ...toRecord(r),
          digest: r.digest,
          operatorName: r.operator_name,
          operatorStatus: r.operator_status,
          expired: r.expired,
        }
      : undefined;
  }

  async find(id: string, tx: EntityManager | DataSource = this.db): Promise<ApiKeyRecord | undefined> {
    const rows: KeyRow[] = await tx.query(`SELECT ${COLUMNS} FROM gateway.api_keys k WHERE k.id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async list(operatorId?: string): Promise<ApiKeyRecord[]> {
    const rows: KeyRow[] = await this.db.query(
      `SELECT ${COLUMNS} FROM gateway.api_keys k WHERE ($1::uuid IS NULL OR k.operator_id = $1) ORDER BY k.created_at, k.id`,
      [operatorId ?? null],
    );
    return rows.map(toRecord);
  }

  /** Returns the key if this call revoked it; undefined if unknown or already revoked. */
  async revoke(tx: EntityManager, id: string, by: string): Promise<ApiKeyRecord | undefined> {
    const rows = returnedRows<KeyRow>(
      await tx.query(
        `UPDATE gateway.api_keys k SET status = 'revoked', revoked_at = now(), revoked_by = $2
        WHERE k.id = $1 AND k.status = 'active' RETURNING ${COLUMNS}`,
        [id, by],
      ),
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** Marks a key as rotated: it stays valid until `until` (the overlap), never longer than it already was. */
  async retire(
    tx: EntityManager,
    id: string,
    rotatedTo: string,
    until: Date,
  ): Promise<ApiKeyRecord | undefined> {
    const rows = returnedRows<KeyRow>(
      await tx.query(
        `UPDATE gateway.api_keys k
          SET rotated_to = $2, expires_at = LEAST(COALESCE(k.expires_at, $3), $3)
        WHERE k.id = $1 AND k.status = 'active' AND k.rotated_to IS NULL RETURNING ${COLUMNS}`,
        [id, rotatedTo, until],
      ),
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async lockForUpdate(tx: EntityManager, id: string): Promise<ApiKeyRecord | undefined> {
    const rows: KeyRow[] = await tx.query(
      `SELECT ${COLUMNS} FROM gateway.api_keys k WHERE k.id = $1 FOR UPDATE`,
      [id],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }
}
