import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SERVICE_DATABASE_ROLES, viewReadersSql } from '@desk/platform';

/**
 * risk.order_decisions: risk's decision on each intent, with exactly the parameters it decided on. A declared
 * read-only view for execution, which places an order only if risk ACCEPTED that intent with the same
 * actor, parameters, reduce-only flag and approval as the job claims (docs/adr/0010). Execution's role
 * gets SELECT on this view only. Keep its name and columns: they are risk's contract with execution.
 */
export class CreateOrderDecisionsView1732407350000 implements MigrationInterface {
  name = 'CreateOrderDecisionsView1732407350000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE VIEW risk.order_decisions AS
        SELECT id AS intent_id, source, status AS decision, actor_type, actor_id, actor_key_id,
               symbol, side, type, quantity, price, reduce_only, approval_id, decided_at
          FROM risk.intents`);
    for (const sql of viewReadersSql('risk', 'order_decisions', [SERVICE_DATABASE_ROLES.execution]))
      await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW risk.order_decisions`);
  }
}
