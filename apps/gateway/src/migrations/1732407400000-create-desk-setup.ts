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
    await q.query(`
      UPDATE gateway.approval_requests
         SET status = 'expired', status_reason = 'admin-issued keys were replaced by holder-generated keys',
             decided_at = now()
       WHERE kind = 'key.admin' AND status = 'pending'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE gateway.desk_setup`);
  }
}
