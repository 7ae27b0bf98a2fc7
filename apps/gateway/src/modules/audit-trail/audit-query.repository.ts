import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  readCheckpoints,
  verifyStoredChain,
  type Checkpoint,
  type StoredVerifyOptions,
  type StoredVerifyResult,
} from '@desk/audit-chain';
import type { KeyObject } from 'node:crypto';
import { decodeSeqCursor, encodeCursor, type Page } from '../../http/cursor';
import type { AuditRecordView, ListAuditQuery } from './audit-trail.dto';

interface AuditRow {
  seq: string;
  event_id: string;
  occurred_at: Date;
  recorded_at: Date;
  actor_type: string;
  actor_id: string;
  actor_key_id: string | null;
  action: string;
  subject_type: string;
  subject_id: string;
  payload: string;
  correlation_id: string;
  prev_hash: string;
  hash: string;
}

/** Reads the audit log (the audit service is its only writer). Oldest first, as a log reads. */
@Injectable()
export class AuditQueryRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async list(query: ListAuditQuery): Promise<Page<AuditRecordView>> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      if (value === undefined) return;
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    add('e.actor_id = ?', query.actorId);
    add('e.action = ?', query.action);
    add('e.subject_type = ?', query.subjectType);
    add('e.subject_id = ?', query.subjectId);
    add('e.correlation_id = ?', query.correlationId);
    add('e.occurred_at >= ?::timestamptz', query.from);
    add('e.occurred_at < ?::timestamptz', query.to);
    if (query.cursor) {
      add('e.seq > ?::bigint', decodeSeqCursor(query.cursor));
    }
    params.push(query.limit + 1);
    // Order by the bigint column itself (ordering by its text form would put 10 before 2).
    const rows: AuditRow[] = await this.db.query(
      `SELECT e.seq::text AS seq, e.event_id, e.occurred_at, e.recorded_at, e.actor_type, e.actor_id, e.actor_key_id,
              e.action, e.subject_type, e.subject_id, e.payload, e.correlation_id, e.prev_hash, e.hash
         FROM audit.audit_events e ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY e.seq LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({
        seq: r.seq,
        eventId: r.event_id,
        occurredAt: r.occurred_at.toISOString(),
        recordedAt: r.recorded_at.toISOString(),
        actor: { type: r.actor_type, id: r.actor_id, keyId: r.actor_key_id },
        action: r.action,
        subject: { type: r.subject_type, id: r.subject_id },
        payload: JSON.parse(r.payload) as unknown,
        correlationId: r.correlation_id,
        prevHash: r.prev_hash,
        hash: r.hash,
      })),
      nextCursor: rows.length > query.limit && last ? encodeCursor([last.seq]) : null,
    };
  }

  async checkpoints(limit: number, cursor: string | undefined): Promise<Page<Checkpoint>> {
    const afterSeq = cursor ? decodeSeqCursor(cursor) : undefined;
    const rows = await readCheckpoints((sql, p) => this.db.query(sql, p), { afterSeq, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { items: page, nextCursor: rows.length > limit && last ? encodeCursor([last.seq]) : null };
  }

  /**
   * Verifies on one connection: the library reads the whole range in one read-only snapshot, each
   * statement bounded by `statementTimeoutMs` and the walk by `deadline`.
   */
  async verify(
    range: { from?: string; to?: string },
    trustedKeys: readonly KeyObject[],
    limits: Pick<StoredVerifyOptions, 'anchors' | 'statementTimeoutMs' | 'deadline'> = {},
  ): Promise<StoredVerifyResult> {
    const runner = this.db.createQueryRunner();
    try {
      return await verifyStoredChain((sql, p) => runner.query(sql, p), { ...range, trustedKeys, ...limits });
    } finally {
      await runner.release();
    }
  }
}
