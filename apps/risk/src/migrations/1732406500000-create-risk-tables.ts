import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createOutboxTableSql } from '@desk/platform';

export class CreateRiskTables1732406500000 implements MigrationInterface {
  name = 'CreateRiskTables1732406500000';

  async up(q: QueryRunner): Promise<void> {
    // One row per intent, written once with its decision; the gateway reads it to show an order's history.
    await q.query(`
      CREATE TABLE risk.intents (
        id              uuid PRIMARY KEY,
        source          text NOT NULL,
        actor_type      text NOT NULL,
        actor_id        text NOT NULL,
        actor_key_id    text,
        symbol          text NOT NULL,
        side            text NOT NULL,
        type            text NOT NULL,
        quantity        numeric NOT NULL,
        price           numeric,
        status          text NOT NULL CHECK (status IN ('ACCEPTED', 'REJECTED')),
        reason_code     text,
        reason          text,
        notional        numeric,
        reference_price numeric,
        correlation_id  text NOT NULL,
        submitted_at    timestamptz NOT NULL,
        decided_at      timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX intents_submitted_at_idx ON risk.intents (submitted_at DESC, id)`);
    await q.query(`CREATE INDEX intents_symbol_idx ON risk.intents (symbol)`);
    // Risk's own exposure view, built from fills: signed quantity (buys +, sells -).
    await q.query(`
      CREATE TABLE risk.positions (
        symbol     text PRIMARY KEY,
        quantity   numeric NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE risk.applied_fills (
        fill_id    text PRIMARY KEY,
        intent_id  uuid NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    for (const sql of createOutboxTableSql('risk')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE risk.outbox`);
    await q.query(`DROP TABLE risk.applied_fills`);
    await q.query(`DROP TABLE risk.positions`);
    await q.query(`DROP TABLE risk.intents`);
  }
}
