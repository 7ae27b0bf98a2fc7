import type { MigrationInterface, QueryRunner } from 'typeorm';
import { addOutboxDeliverySql, dropOutboxDeliverySql } from '@desk/platform';

/**
 * The re-drive sweep (docs/runbook.md, "Nothing accepted is lost"): agents's outbox keeps each job's id and
 * when its consumer was seen to record it (libs/platform/src/outbox/receipts.ts).
 */
export class OutboxReceipts1732408300000 implements MigrationInterface {
  name = 'OutboxReceipts1732408300000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of addOutboxDeliverySql('agents')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of dropOutboxDeliverySql('agents')) await q.query(sql);
  }
}
