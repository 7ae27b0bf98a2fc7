import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createOutboxTableSql } from '@desk/platform';

export class CreateGatewayTables1732406600000 implements MigrationInterface {
  name = 'CreateGatewayTables1732406600000';

  async up(q: QueryRunner): Promise<void> {
    // One row per (operator, Idempotency-Key): the request's hash and the response that was sent.
    await q.query(`
      CREATE TABLE gateway.idempotency_keys (
        actor_id        text NOT NULL,
        key             text NOT NULL,
        method          text NOT NULL,
        path            text NOT NULL,
        request_hash    text NOT NULL,
        response_status integer NOT NULL,
        response_body   text NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now(),
        expires_at      timestamptz NOT NULL,
        PRIMARY KEY (actor_id, key)
      )`);
    await q.query(`CREATE INDEX idempotency_keys_expiry_idx ON gateway.idempotency_keys (expires_at)`);
    // Orders the gateway let in: so an order is visible from the moment the 202 is sent.
    await q.query(`
      CREATE TABLE gateway.submissions (
        id              uuid PRIMARY KEY,
        actor_id        text NOT NULL,
        actor_key_id    text,
        idempotency_key text NOT NULL,
        symbol          text NOT NULL,
        side            text NOT NULL,
        type            text NOT NULL,
        quantity        numeric NOT NULL,
        price           numeric,
        correlation_id  text NOT NULL,
        submitted_at    timestamptz NOT NULL
      )`);
    for (const sql of createOutboxTableSql('gateway')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE gateway.outbox`);
    await q.query(`DROP TABLE gateway.submissions`);
    await q.query(`DROP TABLE gateway.idempotency_keys`);
  }
}
