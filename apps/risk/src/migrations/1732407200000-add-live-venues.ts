import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Venues enabled for live trading (real money), one row per venue that was ever switched; no row means not
 * live. Enabling needs two approvers (the approval id is kept); switching off never does. Execution reads
 * this table before placing anything on a live venue: keep its name and columns.
 *
 * An approval releases one control command: a second command naming the same approval is refused, and
 * the partial unique index makes sure of it even when two arrive at once.
 */
export class AddLiveVenues1732407200000 implements MigrationInterface {
  name = 'AddLiveVenues1732407200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE risk.venues (
        venue          text PRIMARY KEY,
        live           boolean NOT NULL,
        approval_id    uuid,
        reason         text NOT NULL,
        set_by_type    text NOT NULL CHECK (set_by_type IN ('operator', 'service')),
        set_by_id      text NOT NULL,
        set_by_key_id  text,
        command_id     uuid NOT NULL,
        set_at         timestamptz NOT NULL DEFAULT now(),
        CHECK (NOT live OR approval_id IS NOT NULL)
      )`);
    await q.query(`
      CREATE UNIQUE INDEX control_commands_approval_once
        ON risk.control_commands (approval_id) WHERE outcome = 'applied' AND approval_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX risk.control_commands_approval_once`);
    await q.query(`DROP TABLE risk.venues`);
  }
}
