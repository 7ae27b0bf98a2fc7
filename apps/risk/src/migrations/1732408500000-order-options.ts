import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SERVICE_DATABASE_ROLES, viewReadersSql } from '@desk/platform';

const ORDER_DECISIONS = `
  SELECT id AS intent_id, source, status AS decision, actor_type, actor_id, actor_key_id,
         symbol, side, type, quantity, price, reduce_only, approval_id, decided_at`;
const APPROVAL_HOLDS = `
  SELECT i.id AS intent_id, i.status AS decision, i.actor_type, i.actor_id, i.actor_key_id,
         i.symbol, i.side, i.type, i.quantity, i.price, i.notional, i.reference_price`;
const HELD = `
  FROM risk.intents i
 WHERE EXISTS (SELECT 1 FROM risk.intent_events e
                WHERE e.intent_id = i.id AND e.status = 'PENDING_APPROVAL')`;

/**
 * An intent carries its time in force and post-only flag (issue 16): risk records them exactly as the intent
 * had them (time_in_force null: none given, GTC for a limit order) and shows them to the services that
 * compare a job's order with what risk decided: risk.order_decisions (execution) and risk.approval_holds
 * (the gateway). Columns are appended to the views, their grants kept.
 */
export class OrderOptions1732408500000 implements MigrationInterface {
  name = 'OrderOptions1732408500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE risk.intents
        ADD COLUMN time_in_force text CHECK (time_in_force IN ('GTC', 'IOC', 'FOK')),
        ADD COLUMN post_only     boolean NOT NULL DEFAULT false`);
    await q.query(
      `CREATE OR REPLACE VIEW risk.order_decisions AS ${ORDER_DECISIONS}, time_in_force, post_only
         FROM risk.intents`,
    );
    await q.query(
      `CREATE OR REPLACE VIEW risk.approval_holds AS ${APPROVAL_HOLDS}, i.time_in_force, i.post_only ${HELD}`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    // A view's columns cannot be dropped by replacing it: recreate them as they were (grants re-given).
    await q.query(`DROP VIEW risk.order_decisions`);
    await q.query(`DROP VIEW risk.approval_holds`);
    await q.query(`CREATE VIEW risk.order_decisions AS ${ORDER_DECISIONS} FROM risk.intents`);
    await q.query(`CREATE VIEW risk.approval_holds AS ${APPROVAL_HOLDS} ${HELD}`);
    for (const sql of viewReadersSql('risk', 'order_decisions', [SERVICE_DATABASE_ROLES.execution]))
      await q.query(sql);
    for (const sql of viewReadersSql('risk', 'approval_holds', [SERVICE_DATABASE_ROLES.gateway]))
      await q.query(sql);
    await q.query(`ALTER TABLE risk.intents DROP COLUMN time_in_force, DROP COLUMN post_only`);
  }
}
