import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AppError } from '@desk/platform';
import { decodeCursor, encodeCursor, type Page } from '../../http/cursor';
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
}

/** Reads the audit log (the audit service is its only writer). Oldest first, as a log reads. */
@Injectable()
export class AuditQueryRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async list(query: ListAuditQuery): Promise<Page<AuditRecordView>> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (column: string, value: string | undefined) => {
      if (value === undefined) return;
      params.push(value);
      where.push(`${column} = $${params.length}`);
    };
    add('subject_type', query.subjectType);
    add('subject_id', query.subjectId);
    add('action', query.action);
    add('actor_id', query.actorId);
    add('correlation_id', query.correlationId);
    if (query.cursor) {
      const [seq] = decodeCursor(query.cursor, 1) as [string];
      if (!/^\d{1,18}$/.test(seq)) {
        throw AppError.validation([{ field: 'cursor', reason: 'is not a cursor returned by this API' }]);
      }
      params.push(seq);
      where.push(`seq > $${params.length}::bigint`);
    }
    params.push(query.limit + 1);
    const rows: AuditRow[] = await this.db.query(
      `SELECT seq::text, event_id, occurred_at, recorded_at, actor_type, actor_id, actor_key_id, action,
              subject_type, subject_id, payload, correlation_id
         FROM audit.audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY seq LIMIT $${params.length}`,
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
      })),
      nextCursor: rows.length > query.limit && last ? encodeCursor([last.seq]) : null,
    };
  }
}
