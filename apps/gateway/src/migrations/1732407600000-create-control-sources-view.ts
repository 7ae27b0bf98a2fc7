import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SERVICE_DATABASE_ROLES, viewReadersSql } from '@desk/platform';

/**
 * gateway.control_requests: every control command the gateway issues to risk (kill, lowering limits,
 * switching a live venue off, and what an approval releases: resume, raising limits, enabling a live
 * venue), written in the same transaction as the outbox row that sends it. Append-only: the gateway's role
 * may insert and read, never change or delete a row.
 *
 * gateway.control_sources: the declared read-only view of it for risk, which applies a command only if it
 * matches a row here (docs/adr/0010). Risk's role gets SELECT on this view only. Keep its name and
 * columns: they are the gateway's contract with risk.
 */
export class CreateControlSourcesView1732407600000 implements MigrationInterface {
  name = 'CreateControlSourcesView1732407600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE gateway.control_requests (
        command_id     uuid PRIMARY KEY,
        command        text NOT NULL,
        reason         text NOT NULL,
        flatten        boolean NOT NULL DEFAULT false,
        limits         jsonb,
        venue          text,
        approval_id    uuid,
        actor_type     text NOT NULL,
        actor_id       text NOT NULL,
        actor_key_id   text,
        correlation_id text NOT NULL,
        created_at     timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `REVOKE UPDATE, DELETE, TRUNCATE ON gateway.control_requests FROM ${SERVICE_DATABASE_ROLES.gateway}`,
    );
    await q.query(`
      CREATE VIEW gateway.control_sources AS
        SELECT command_id, command, reason, flatten, limits, venue, approval_id,
               actor_type, actor_id, actor_key_id, created_at
          FROM gateway.control_requests`);
    for (const sql of viewReadersSql('gateway', 'control_sources', [SERVICE_DATABASE_ROLES.risk]))
      await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW gateway.control_sources`);
    await q.query(`DROP TABLE gateway.control_requests`);
  }
}
