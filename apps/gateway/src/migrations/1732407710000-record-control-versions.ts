import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SERVICE_DATABASE_ROLES, viewReadersSql } from '@desk/platform';

/**
 * An approved resume or limit raise is bound to risk's state version (docs/adr/0008): the gateway records
 * the version it issued with the command, risk compares it (gateway.control_sources), and the re-drive sweep
 * can send the exact command again. Submissions get an index for the sweep's look-back.
 */
export class RecordControlVersions1732407710000 implements MigrationInterface {
  name = 'RecordControlVersions1732407710000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE gateway.control_requests ADD COLUMN state_version text, ADD COLUMN limits_version text`,
    );
    await q.query(`
      CREATE OR REPLACE VIEW gateway.control_sources AS
        SELECT command_id, command, reason, flatten, limits, venue, approval_id,
               actor_type, actor_id, actor_key_id, created_at, state_version, limits_version
          FROM gateway.control_requests`);
    for (const sql of viewReadersSql('gateway', 'control_sources', [SERVICE_DATABASE_ROLES.risk]))
      await q.query(sql);
    await q.query(`CREATE INDEX submissions_submitted_idx ON gateway.submissions (submitted_at)`);
    await q.query(`CREATE INDEX control_requests_created_idx ON gateway.control_requests (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX gateway.control_requests_created_idx`);
    await q.query(`DROP INDEX gateway.submissions_submitted_idx`);
    await q.query(`DROP VIEW gateway.control_sources`);
    await q.query(
      `ALTER TABLE gateway.control_requests DROP COLUMN state_version, DROP COLUMN limits_version`,
    );
    await q.query(`
      CREATE VIEW gateway.control_sources AS
        SELECT command_id, command, reason, flatten, limits, venue, approval_id,
               actor_type, actor_id, actor_key_id, created_at
          FROM gateway.control_requests`);
    for (const sql of viewReadersSql('gateway', 'control_sources', [SERVICE_DATABASE_ROLES.risk]))
      await q.query(sql);
  }
}
