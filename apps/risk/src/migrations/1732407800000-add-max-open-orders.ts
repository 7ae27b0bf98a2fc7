import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The limit on open orders per trader (`max_open_orders`, a count: higher is more risk), seeded with the
 * default of apps/risk/src/config.ts and, like every limit, following the configuration at boot until
 * someone changes it. The partial index serves the count: one trader's orders that are not final yet.
 */
export class AddMaxOpenOrders1732407800000 implements MigrationInterface {
  name = 'AddMaxOpenOrders1732407800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      INSERT INTO risk.limits (name, value, updated_by) VALUES ('max_open_orders', 100, 'default')
      ON CONFLICT (name) DO NOTHING`);
    await q.query(`
      CREATE INDEX intents_open_by_actor_idx ON risk.intents (actor_type, actor_id)
       WHERE NOT reduce_only
         AND (status = 'PENDING_APPROVAL'
              OR (status = 'ACCEPTED'
                  AND (execution_status IS NULL OR execution_status NOT IN ('FILLED', 'CANCELLED'))))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX risk.intents_open_by_actor_idx`);
    await q.query(`DELETE FROM risk.limits WHERE name = 'max_open_orders'`);
  }
}
