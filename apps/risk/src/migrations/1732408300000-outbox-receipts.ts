import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  SERVICE_DATABASE_ROLES,
  addOutboxDeliverySql,
  dropOutboxDeliverySql,
  readViewSql,
} from '@desk/platform';

const { execution, gateway } = SERVICE_DATABASE_ROLES;
const agents = SERVICE_DATABASE_ROLES['agent-analysis'];

/**
 * The re-drive sweep (docs/runbook.md, "Nothing accepted is lost"): risk's outbox keeps each job's id and
 * when its consumer was seen to record it (libs/platform/src/outbox/receipts.ts).
 * risk.intent_receipts tells the gateway and the agents which intents risk recorded (and whether one still
 * waits for approval); risk.execution_report_receipts tells execution which reports risk applied.
 */
export class OutboxReceipts1732408300000 implements MigrationInterface {
  name = 'OutboxReceipts1732408300000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of addOutboxDeliverySql('risk')) await q.query(sql);
    for (const sql of readViewSql('risk', 'intent_receipts', 'SELECT id, status FROM risk.intents', [
      gateway,
      agents,
    ]))
      await q.query(sql);
    for (const sql of readViewSql(
      'risk',
      'execution_report_receipts',
      'SELECT id FROM risk.execution_reports',
      [execution],
    ))
      await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW risk.execution_report_receipts`);
    await q.query(`DROP VIEW risk.intent_receipts`);
    for (const sql of dropOutboxDeliverySql('risk')) await q.query(sql);
  }
}
