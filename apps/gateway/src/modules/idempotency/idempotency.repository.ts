import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

export interface IdempotencyScope {
  actorId: string;
  key: string;
}

export type ClaimOutcome =
  | { kind: 'claimed'; token: string }
  | { kind: 'completed'; requestHash: string; status: number; body: string }
  | { kind: 'in-flight'; requestHash: string };

/** Claims a key no request holds: one row, or nothing when the key is taken (or expired, not yet deleted). */
const CLAIM_INSERT = `INSERT INTO gateway.idempotency_keys
    (actor_id, key, method, path, request_hash, claim_token, locked_until, expires_at)
  VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7), now() + make_interval(hours => $8))
  ON CONFLICT (actor_id, key) DO NOTHING
  RETURNING key`;

@Injectable()
export class IdempotencyRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Claims (actor, key) for one request, in its own short transaction so that a concurrent duplicate
   * sees the claim at once. An in-flight claim whose lock has run out (its request died) is taken over, and
   * an expired key is used afresh.
   */
  async claim(
    scope: IdempotencyScope,
    request: { method: string; path: string; requestHash: string },
    token: string,
    lockSeconds: number,
    ttlHours: number,
  ): Promise<ClaimOutcome> {
    const claimRow = [
      scope.actorId,
      scope.key,
      request.method,
      request.path,
      request.requestHash,
      token,
      lockSeconds,
      ttlHours,
    ];
    // The common case, a key never used: one statement, no transaction around it.
    const fresh: unknown[] = await this.db.query(CLAIM_INSERT, claimRow);
    if (fresh.length > 0) return { kind: 'claimed', token };
    return this.db.transaction(async (tx) => {
      await tx.query(
        `DELETE FROM gateway.idempotency_keys WHERE actor_id = $1 AND key = $2 AND expires_at < now()`,
        [scope.actorId, scope.key],
      );
      const inserted: unknown[] = await tx.query(CLAIM_INSERT, claimRow);
      if (inserted.length > 0) return { kind: 'claimed', token };
      const rows: {
        request_hash: string;
        response_status: number | null;
        response_body: string | null;
        locked: boolean;
      }[] = await tx.query(
        `SELECT request_hash, response_status, response_body, locked_until > now() AS locked
           FROM gateway.idempotency_keys WHERE actor_id = $1 AND key = $2 FOR UPDATE`,
        [scope.actorId, scope.key],
      );
      const row = rows[0];
      if (!row) throw new Error('idempotency record vanished during claim');
      if (row.response_status !== null && row.response_body !== null) {
        return {
          kind: 'completed',
          requestHash: row.request_hash,
          status: row.response_status,
          body: row.response_body,
        };
      }
      if (row.locked || row.request_hash !== request.requestHash) {
        return { kind: 'in-flight', requestHash: row.request_hash };
      }
      await tx.query(
        `UPDATE gateway.idempotency_keys SET claim_token = $3, locked_until = now() + make_interval(secs => $4)
          WHERE actor_id = $1 AND key = $2`,
        [scope.actorId, scope.key, token, lockSeconds],
      );
      return { kind: 'claimed', token };
    });
  }

  /** Stores the response inside the work's transaction; fails if the claim was lost meanwhile. */
  async complete(
    tx: EntityManager,
    scope: IdempotencyScope,
    token: string,
    response: { status: number; body: string },
  ): Promise<void> {
    await this.completeMany(tx, [{ scope, token, response }]);
  }

  /**
   * Stores the responses of claimed requests in one statement (group commit). Throws when any claim was
   * lost meanwhile (taken over after LOCK_SECONDS): the transaction must not commit a response nobody
   * holds the key for.
   */
  async completeMany(
    tx: EntityManager,
    done: readonly {
      scope: IdempotencyScope;
      token: string;
      response: { status: number; body: string };
    }[],
  ): Promise<void> {
    if (!done.length) return;
    const updated: [unknown[], number] = await tx.query(
      `UPDATE gateway.idempotency_keys k
          SET response_status = c.status, response_body = c.body, claim_token = NULL
         FROM jsonb_to_recordset($1::jsonb) AS c(actor_id text, key text, token uuid, status integer, body text)
        WHERE k.actor_id = c.actor_id AND k.key = c.key AND k.claim_token = c.token`,
      [
        JSON.stringify(
          done.map((d) => ({
            actor_id: d.scope.actorId,
            key: d.scope.key,
            token: d.token,
            status: d.response.status,
            body: d.response.body,
          })),
        ),
      ],
    );
    if (updated[1] !== done.length) throw new Error('idempotency claim lost before completion');
  }

  /** Gives the key back after a request that changed nothing (a validation error, a crash). */
  async release(scope: IdempotencyScope, token: string): Promise<void> {
    await this.db.query(
      `DELETE FROM gateway.idempotency_keys WHERE actor_id = $1 AND key = $2 AND claim_token = $3`,
      [scope.actorId, scope.key, token],
    );
  }
}
