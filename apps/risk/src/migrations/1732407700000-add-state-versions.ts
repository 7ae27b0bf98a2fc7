import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Approvals bound to their context (docs/adr/0008): a resume names the halt it lifts and a limit raise the
 * limits it was asked against. The trading state carries a version bumped by every change, the limits a
 * revision bumped by every change (the limits' version is the highest revision); both are read by the gateway
 * through the existing views, which are redefined to show the new columns.
 */
export class AddStateVersions1732407700000 implements MigrationInterface {
  name = 'AddStateVersions1732407700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE risk.trading_state ADD COLUMN version bigint NOT NULL DEFAULT 1`);
    await q.query(`CREATE SEQUENCE risk.limits_revision_seq`);
    await q.query(`ALTER TABLE risk.limits ADD COLUMN revision bigint NOT NULL DEFAULT 0`);
    await q.query(`CREATE OR REPLACE VIEW risk.trading_state_v AS SELECT * FROM risk.trading_state`);
    await q.query(`CREATE OR REPLACE VIEW risk.limits_v AS SELECT * FROM risk.limits`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW risk.limits_v`);
    await q.query(`DROP VIEW risk.trading_state_v`);
    await q.query(`ALTER TABLE risk.limits DROP COLUMN revision`);
    await q.query(`ALTER TABLE risk.trading_state DROP COLUMN version`);
    await q.query(`DROP SEQUENCE risk.limits_revision_seq`);
    await q.query(`CREATE VIEW risk.limits_v AS SELECT * FROM risk.limits`);
    await q.query(`CREATE VIEW risk.trading_state_v AS SELECT * FROM risk.trading_state`);
  }
}
