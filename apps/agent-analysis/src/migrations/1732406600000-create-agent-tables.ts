import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createOutboxTableSql } from '@desk/platform';

/** Signals and decisions are read by the gateway (GET /v1/signals): keep the column names stable. */
export class CreateAgentTables1732406600000 implements MigrationInterface {
  name = 'CreateAgentTables1732406600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE agents.signals (
        id         uuid PRIMARY KEY,
        run_id     uuid NOT NULL,
        agent      text NOT NULL,
        symbol     text NOT NULL,
        direction  text NOT NULL CHECK (direction IN ('long', 'short', 'abstain')),
        conviction numeric CHECK (conviction BETWEEN -1 AND 1),
        rationale  text NOT NULL,
        price      numeric NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((direction = 'abstain') = (conviction IS NULL))
      )`);
    await q.query(`CREATE INDEX signals_created_idx ON agents.signals (created_at DESC, id)`);
    await q.query(`
      CREATE TABLE agents.decisions (
        run_id             uuid NOT NULL,
        symbol             text NOT NULL,
        blended_conviction numeric,
        intent_id          uuid,
        outcome            text NOT NULL,
        created_at         timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (run_id, symbol)
      )`);
    // The cooldown looks up the latest intent of a symbol.
    await q.query(
      `CREATE INDEX decisions_intent_idx ON agents.decisions (symbol, created_at DESC) WHERE outcome = 'intent'`,
    );
    for (const sql of createOutboxTableSql('agents')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE agents.decisions`);
    await q.query(`DROP TABLE agents.signals`);
    await q.query(`DROP TABLE agents.outbox`);
  }
}
