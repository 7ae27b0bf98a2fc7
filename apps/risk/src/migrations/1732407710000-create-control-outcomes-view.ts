import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SERVICE_DATABASE_ROLES, readViewSql } from '@desk/platform';

/**
 * risk.control_outcomes: which control commands risk has recorded (applied or refused), for the gateway's
 * re-drive sweep: a command the gateway issued that risk never recorded is sent again (a kill is never
 * dropped). Keep its name and columns: they are risk's contract with the gateway.
 */
export class CreateControlOutcomesView1732407710000 implements MigrationInterface {
  name = 'CreateControlOutcomesView1732407710000';

  async up(q: QueryRunner): Promise<void> {
    const sql = readViewSql(
      'risk',
      'control_outcomes',
      'SELECT id AS command_id, outcome, received_at FROM risk.control_commands',
      [SERVICE_DATABASE_ROLES.gateway],
    );
    for (const s of sql) await q.query(s);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW risk.control_outcomes`);
  }
}
