import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  SERVICE_DATABASE_ROLES,
  addOutboxDeliverySql,
  dropOutboxDeliverySql,
  readViewSql,
} from '@desk/platform';

const { execution, risk } = SERVICE_DATABASE_ROLES;

/**
 * The re-drive sweep (docs/runbook.md, "Nothing accepted is lost"): gateway's outbox keeps each job's id and
 * when its consumer was seen to record it (libs/platform/src/outbox/receipts.ts).
 * gateway.order_event_receipts tells risk and execution which order transitions the projection recorded.
 */
export class OutboxReceipts1732408300000 implements MigrationInterface {
  name = 'OutboxReceipts1732408300000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of addOutboxDeliverySql('gateway')) await q.query(sql);
    for (const sql of readViewSql(
      'gateway',
      'order_event_receipts',
      'SELECT order_id, owner, seq FROM gateway.order_events',
      [risk, execution],
    ))
      await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW gateway.order_event_receipts`);
    for (const sql of dropOutboxDeliverySql('gateway')) await q.query(sql);
  }
}
