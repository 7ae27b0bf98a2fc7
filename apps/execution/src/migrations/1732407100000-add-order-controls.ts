import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Risk controls at execution: which orders are risk's reduce-only closes (they pass while the desk is
 * halted, and only if they reduce the position), and the approval a critical order was placed under.
 * A refused or cancelled order keeps its reason code in execution.order_events.detail ("CODE: text").
 */
export class AddOrderControls1732407100000 implements MigrationInterface {
  name = 'AddOrderControls1732407100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE execution.orders
        ADD COLUMN reduce_only boolean NOT NULL DEFAULT false,
        ADD COLUMN approval_id uuid`);
    await q.query(`CREATE INDEX orders_symbol_active_idx ON execution.orders (symbol, side)
                     WHERE status IN ('SUBMITTED', 'OPEN', 'UNKNOWN')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX execution.orders_symbol_active_idx`);
    await q.query(`ALTER TABLE execution.orders DROP COLUMN approval_id, DROP COLUMN reduce_only`);
  }
}
