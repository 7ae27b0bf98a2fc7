import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SERVICE_DATABASE_ROLES, viewReadersSql } from '@desk/platform';

/**
 * An operator's order carries its time in force and post-only flag (issue 16): recorded with the submission
 * exactly as sent (time_in_force null: none given, which is GTC for a limit order), shown in the order
 * projection, and added to gateway.intent_sources (its reader, risk, compares them with the intent's: an
 * intent with IOC that the gateway recorded without would be a forgery). Columns are appended to the view,
 * its grants kept.
 */
export class OrderOptions1732408510000 implements MigrationInterface {
  name = 'OrderOptions1732408510000';

  async up(q: QueryRunner): Promise<void> {
    for (const table of ['gateway.submissions', 'gateway.orders']) {
      await q.query(`
        ALTER TABLE ${table}
          ADD COLUMN time_in_force text CHECK (time_in_force IN ('GTC', 'IOC', 'FOK')),
          ADD COLUMN post_only     boolean NOT NULL DEFAULT false`);
    }
    await q.query(`
      CREATE OR REPLACE VIEW gateway.intent_sources AS
        SELECT id AS intent_id, 'operator'::text AS actor_type, actor_id, actor_key_id,
               symbol, side, type, quantity, price, submitted_at, time_in_force, post_only
          FROM gateway.submissions`);
  }

  async down(q: QueryRunner): Promise<void> {
    // A view's columns cannot be dropped by replacing it: recreate it as it was (grants re-given).
    await q.query(`DROP VIEW gateway.intent_sources`);
    await q.query(`
      CREATE VIEW gateway.intent_sources AS
        SELECT id AS intent_id, 'operator'::text AS actor_type, actor_id, actor_key_id,
               symbol, side, type, quantity, price, submitted_at
          FROM gateway.submissions`);
    for (const sql of viewReadersSql('gateway', 'intent_sources', [SERVICE_DATABASE_ROLES.risk]))
      await q.query(sql);
    for (const table of ['gateway.submissions', 'gateway.orders']) {
      await q.query(`ALTER TABLE ${table} DROP COLUMN time_in_force, DROP COLUMN post_only`);
    }
  }
}
