import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { AuditEvent } from '@desk/contracts';

/** Appends to the audit log. Idempotent by event id: a retried job never records twice. */
@Injectable()
export class AuditLogRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Returns true when the event was new. */
  async append(event: AuditEvent): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `INSERT INTO audit.audit_events
         (event_id, occurred_at, actor_type, actor_id, actor_key_id, action, subject_type, subject_id, payload, correlation_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (event_id) DO NOTHING
       RETURNING seq`,
      [
        event.eventId,
        event.occurredAt,
        event.actor.type,
        event.actor.id,
        event.actor.keyId ?? null,
        event.action,
        event.subject.type,
        event.subject.id,
        JSON.stringify(event.payload),
        event.correlationId,
      ],
    );
    return rows.length > 0;
  }
}
