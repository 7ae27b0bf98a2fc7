import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  SERVICE_DATABASE_ROLES,
  addOutboxDeliverySql,
  dropOutboxDeliverySql,
  readViewSql,
} from '@desk/platform';

const { audit, execution, gateway, risk } = SERVICE_DATABASE_ROLES;
const agents = SERVICE_DATABASE_ROLES['agent-analysis'];

/**
 * The re-drive sweep (docs/runbook.md, "Nothing accepted is lost"): audit's outbox keeps each job's id and
 * when its consumer was seen to record it (libs/platform/src/outbox/receipts.ts).
 * audit.event_receipts tells every service which of its events are in the log.
 */
export class OutboxReceipts1732408300000 implements MigrationInterface {
  name = 'OutboxReceipts1732408300000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of addOutboxDeliverySql('audit')) await q.query(sql);
    for (const sql of readViewSql('audit', 'event_receipts', 'SELECT event_id FROM audit.audit_events', [
      gateway,
      agents,
      risk,
      execution,
      audit,
    ]))
      await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW audit.event_receipts`);
    for (const sql of dropOutboxDeliverySql('audit')) await q.query(sql);
  }
}
