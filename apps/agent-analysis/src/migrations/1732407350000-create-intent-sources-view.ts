import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SERVICE_DATABASE_ROLES, viewReadersSql } from '@desk/platform';

/**
 * agents.intent_sources: every intent the agents emitted, with its order. A declared read-only view for
 * risk, which decides an agent intent only if it matches a row here (docs/adr/0010). Risk's role gets
 * SELECT on this view only. Keep its name and columns: they are agent-analysis's contract with risk.
 *
 * A decision now keeps the order it emitted (side, type, quantity, price). Rows written before this migration
 * have none and appear with NULLs: an intent of theirs still waiting on the queue is refused by risk.
 */
export class CreateIntentSourcesView1732407350000 implements MigrationInterface {
  name = 'CreateIntentSourcesView1732407350000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE agents.decisions
        ADD COLUMN side     text,
        ADD COLUMN type     text,
        ADD COLUMN quantity numeric,
        ADD COLUMN price    numeric`);
    await q.query(
      `CREATE UNIQUE INDEX decisions_intent_id_idx ON agents.decisions (intent_id) WHERE intent_id IS NOT NULL`,
    );
    // The agents act as the agent-analysis service (serviceActor): that is the actor risk must see.
    await q.query(`
      CREATE VIEW agents.intent_sources AS
        SELECT intent_id, 'service'::text AS actor_type, 'agent-analysis'::text AS actor_id,
               NULL::text AS actor_key_id, symbol, side, type, quantity, price,
               created_at AS submitted_at
          FROM agents.decisions
         WHERE outcome = 'intent' AND intent_id IS NOT NULL`);
    for (const sql of viewReadersSql('agents', 'intent_sources', [SERVICE_DATABASE_ROLES.risk]))
      await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW agents.intent_sources`);
    await q.query(`DROP INDEX agents.decisions_intent_id_idx`);
    await q.query(
      `ALTER TABLE agents.decisions DROP COLUMN side, DROP COLUMN type, DROP COLUMN quantity, DROP COLUMN price`,
    );
  }
}
