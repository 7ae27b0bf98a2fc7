import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The desk's setup phase (docs/adr/0011): while it is open, the first admin creates the first operators and
 * grants their keys without approvals (there is nobody to approve yet) and no approval counts; closing it
 * is final. A desk that already has operators beyond its first admin was set up before this phase existed:
 * it starts closed (its keys are worth a review: docs/runbook.md).
 *
 * Admin-issued key rotations and 'key.admin' requests are gone (holders rotate their own keys; every
 * privileged key is a 'key.grant'): pending 'key.admin' requests are expired, never executed.
 */
export class CreateDeskSetup1732407400000 implements MigrationInterface {
  name = 'CreateDeskSetup1732407400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE gateway.desk_setup (
        id         integer PRIMARY KEY CHECK (id = 1),
        phase      text NOT NULL CHECK (phase IN ('bootstrap', 'operational')),
        opened_at  timestamptz NOT NULL DEFAULT now(),
        closed_at  timestamptz,
        closed_by  text,
        CHECK ((phase = 'operational') = (closed_at IS NOT NULL))
      )`);
    await q.query(`
      INSERT INTO gateway.desk_setup (id, phase, closed_at, closed_by)
      SELECT 1, CASE WHEN n > 1 THEN 'operational' ELSE 'bootstrap' END,
             CASE WHEN n > 1 THEN now() END, CASE WHEN n > 1 THEN 'migration' END
        FROM (SELECT count(*) AS n FROM gateway.operators) o`);
    // Closing is final even for the gateway's own role: it may move the row from bootstrap to operational,
    // never back, and never delete it. Only the owner (not a running service) could drop this trigger.
    await q.query(`
      CREATE FUNCTION gateway.desk_setup_one_way() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' OR OLD.phase = 'operational' THEN
          RAISE EXCEPTION 'the desk setup phase is closed for good' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER desk_setup_one_way BEFORE UPDATE OR DELETE ON gateway.desk_setup
        FOR EACH ROW EXECUTE FUNCTION gateway.desk_setup_one_way()`);
    await q.query(`
      UPDATE gateway.approval_requests
         SET status = 'expired', status_reason = 'admin-issued keys were replaced by holder-generated keys',
             decided_at = now()
       WHERE kind = 'key.admin' AND status = 'pending'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE gateway.desk_setup`);
    await q.query(`DROP FUNCTION gateway.desk_setup_one_way()`);
  }
}
