import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SERVICE_DATABASE_ROLES, viewReadersSql } from '@desk/platform';

/**
 * risk.cancel_all_requests: every cancel-all risk asks of execution (a kill, a breaker that halts the
 * desk), written in the same transaction as the halt and the outbox row that sends it. Append-only: risk's
 * role may insert and read, never change or delete a row.
 *
 * risk.cancel_all_sources: the declared read-only view of it for execution, which cancels orders only for
 * a job that matches a row here (docs/adr/0010). Execution's role gets SELECT on this view only. Keep its
 * name and columns: they are risk's contract with execution.
 */
export class CreateCancelAllSourcesView1732407600000 implements MigrationInterface {
  name = 'CreateCancelAllSourcesView1732407600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE risk.cancel_all_requests (
        command_id     uuid PRIMARY KEY,
        actor_type     text NOT NULL,
        actor_id       text NOT NULL,
        actor_key_id   text,
        reason_code    text NOT NULL,
        reason         text NOT NULL,
        source         text NOT NULL,
        correlation_id text NOT NULL,
        requested_at   timestamptz NOT NULL
      )`);
    await q.query(
      `REVOKE UPDATE, DELETE, TRUNCATE ON risk.cancel_all_requests FROM ${SERVICE_DATABASE_ROLES.risk}`,
    );
    await q.query(`
      CREATE VIEW risk.cancel_all_sources AS
        SELECT command_id, actor_type, actor_id, actor_key_id, reason_code, reason, source, requested_at
          FROM risk.cancel_all_requests`);
    for (const sql of viewReadersSql('risk', 'cancel_all_sources', [SERVICE_DATABASE_ROLES.execution]))
      await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW risk.cancel_all_sources`);
    await q.query(`DROP TABLE risk.cancel_all_requests`);
  }
}
