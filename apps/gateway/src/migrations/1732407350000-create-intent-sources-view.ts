import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SERVICE_DATABASE_ROLES, viewReadersSql } from '@desk/platform';

/**
 * gateway.intent_sources: every order an operator submitted through the gateway, with the actor the
 * gateway authenticated (operator and key) and the parameters it accepted. A declared read-only view for
 * risk, which decides an operator intent only if it matches a row here (docs/adr/0010). Risk's role gets
 * SELECT on this view only. Keep its name and columns: they are the gateway's contract with risk.
 */
export class CreateIntentSourcesView1732407350000 implements MigrationInterface {
  name = 'CreateIntentSourcesView1732407350000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE VIEW gateway.intent_sources AS
        SELECT id AS intent_id, 'operator'::text AS actor_type, actor_id, actor_key_id,
               symbol, side, type, quantity, price, submitted_at
          FROM gateway.submissions`);
    for (const sql of viewReadersSql('gateway', 'intent_sources', [SERVICE_DATABASE_ROLES.risk]))
      await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW gateway.intent_sources`);
  }
}
