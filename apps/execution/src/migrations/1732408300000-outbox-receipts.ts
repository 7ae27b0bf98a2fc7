import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  SERVICE_DATABASE_ROLES,
  addOutboxDeliverySql,
  dropOutboxDeliverySql,
  readViewSql,
} from '@desk/platform';

const { risk } = SERVICE_DATABASE_ROLES;

/**
 * The re-drive sweep (docs/runbook.md, "Nothing accepted is lost"): execution's outbox keeps each job's id and
 * when its consumer was seen to record it (libs/platform/src/outbox/receipts.ts).
 * execution.cancel_all_runs records each cancel-all execution ran (by the command that asked), and
 * execution.cancel_all_receipts shows it to risk.
 */
export class OutboxReceipts1732408300000 implements MigrationInterface {
  name = 'OutboxReceipts1732408300000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of addOutboxDeliverySql('execution')) await q.query(sql);
    await q.query(`
      CREATE TABLE execution.cancel_all_runs (
        command_id uuid PRIMARY KEY,
        cancelled  integer NOT NULL,
        ran_at     timestamptz NOT NULL DEFAULT now()
      )`);
    for (const sql of readViewSql(
      'execution',
      'cancel_all_receipts',
      'SELECT command_id FROM execution.cancel_all_runs',
      [risk],
    ))
      await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW execution.cancel_all_receipts`);
    await q.query(`DROP TABLE execution.cancel_all_runs`);
    for (const sql of dropOutboxDeliverySql('execution')) await q.query(sql);
  }
}
