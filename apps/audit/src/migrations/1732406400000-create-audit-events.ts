import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createOutboxTableSql } from '@desk/platform';

export class CreateAuditEvents1732406400000 implements MigrationInterface {
  name = 'CreateAuditEvents1732406400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit.audit_events (
        seq            bigserial PRIMARY KEY,
        event_id       uuid NOT NULL UNIQUE,
        occurred_at    timestamptz NOT NULL,
        recorded_at    timestamptz NOT NULL DEFAULT now(),
        actor_type     text NOT NULL,
        actor_id       text NOT NULL,
        actor_key_id   text,
        action         text NOT NULL,
        subject_type   text NOT NULL,
        subject_id     text NOT NULL,
        payload        text NOT NULL,
        correlation_id text NOT NULL
      )`);
    await q.query(
      `CREATE INDEX audit_events_subject_idx ON audit.audit_events (subject_type, subject_id, seq)`,
    );
    await q.query(`CREATE INDEX audit_events_action_idx ON audit.audit_events (action, seq)`);
    await q.query(`CREATE INDEX audit_events_correlation_idx ON audit.audit_events (correlation_id)`);
    for (const sql of createOutboxTableSql('audit')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit.audit_events`);
    await q.query(`DROP TABLE audit.outbox`);
  }
}
