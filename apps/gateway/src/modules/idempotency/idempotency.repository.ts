import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface StoredResponse {
  requestHash: string;
  status: number;
  body: string;
}

export interface IdempotencyClaim {
  actorId: string;
  key: string;
  method: string;
  path: string;
  requestHash: string;
  response: { status: number; body: string };
  ttlHours: number;
}

@Injectable()
export class IdempotencyRepository {
  /**
   * Stores the key with its response inside the caller's transaction. Returns undefined when this call
   * claimed the key; otherwise the response stored by the earlier request (a concurrent duplicate waits on
   * the primary key until the first transaction ends, then sees its row).
   */
  async claim(tx: EntityManager, c: IdempotencyClaim): Promise<StoredResponse | undefined> {
    await tx.query(
      `DELETE FROM gateway.idempotency_keys WHERE actor_id = $1 AND key = $2 AND expires_at < now()`,
      [c.actorId, c.key],
    );
    const inserted: unknown[] = await tx.query(
      `INSERT INTO gateway.idempotency_keys
         (actor_id, key, method, path, request_hash, response_status, response_body, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(hours => $8))
       ON CONFLICT (actor_id, key) DO NOTHING
       RETURNING key`,
      [c.actorId, c.key, c.method, c.path, c.requestHash, c.response.status, c.response.body, c.ttlHours],
    );
    if (inserted.length > 0) return undefined;
    const rows: { request_hash: string; response_status: number; response_body: string }[] = await tx.query(
      `SELECT request_hash, response_status, response_body FROM gateway.idempotency_keys WHERE actor_id = $1 AND key = $2`,
      [c.actorId, c.key],
    );
    const row = rows[0];
    if (!row) throw new Error('idempotency record vanished during claim');
    return { requestHash: row.request_hash, status: row.response_status, body: row.response_body };
  }
}
