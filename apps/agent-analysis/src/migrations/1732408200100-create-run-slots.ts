import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * agents.run_slots: the scheduler slot (epoch milliseconds, from the job id `repeat:agent-run:<slot>`) of
 * every agent run started. At most one run per slot, slots only move forward and at least one schedule
 * interval apart: a forged `agent.run` job cannot make the agents trade more often than their schedule
 * allows (docs/adr/0016). The service's role gets DML on it through the schema's default privileges.
 */
export class CreateRunSlots1732408200100 implements MigrationInterface {
  name = 'CreateRunSlots1732408200100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE agents.run_slots (
        slot       bigint PRIMARY KEY,
        job_id     text NOT NULL UNIQUE,
        claimed_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE agents.run_slots`);
  }
}
