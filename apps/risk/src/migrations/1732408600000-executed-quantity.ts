import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * risk.intents.executed_quantity: how much of an accepted order has filled (partial fills, issue 16). The
 * pending exposure of an order that may still fill is its quantity less this: the filled part is in the
 * position already.
 */
export class ExecutedQuantity1732408600000 implements MigrationInterface {
  name = 'ExecutedQuantity1732408600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE risk.intents ADD COLUMN executed_quantity numeric NOT NULL DEFAULT 0`);
    // Before partial fills an order filled all at once (then it is no longer pending): nothing to backfill.
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE risk.intents DROP COLUMN executed_quantity`);
  }
}
