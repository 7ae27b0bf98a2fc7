import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createOutboxTableSql } from '@desk/platform';

export class CreateGatewayTables1732406600000 implements MigrationInterface {
  name = 'CreateGatewayTables1732406600000';

  async up(q: QueryRunner): Promise<void> {
    // A person who operates the desk. Keys belong to operators; disabling one stops all their keys.
    await q.query(`
      CREATE TABLE gateway.operators (
        id          uuid PRIMARY KEY,
        name        text NOT NULL UNIQUE,
        status      text NOT NULL CHECK (status IN ('active', 'disabled')),
        created_at  timestamptz NOT NULL DEFAULT now(),
        created_by  text NOT NULL,
        disabled_at timestamptz
      )`);
    // API keys: only the SHA-256 digest of the key and a public id derived from it; never the key.
    await q.query(`
      CREATE TABLE gateway.api_keys (
        id          text PRIMARY KEY CHECK (id ~ '^kid_[0-9a-f]{16}$'),
        operator_id uuid NOT NULL REFERENCES gateway.operators (id),
        digest      bytea NOT NULL UNIQUE CHECK (octet_length(digest) = 32),
        roles       text[] NOT NULL CHECK (cardinality(roles) > 0),
        label       text NOT NULL,
        status      text NOT NULL CHECK (status IN ('active', 'revoked')),
        expires_at  timestamptz,
        created_at  timestamptz NOT NULL DEFAULT now(),
        created_by  text NOT NULL,
        revoked_at  timestamptz,
        revoked_by  text,
        rotated_to  text REFERENCES gateway.api_keys (id)
      )`);
    await q.query(`CREATE INDEX api_keys_operator_idx ON gateway.api_keys (operator_id)`);
    // One row per (operator, Idempotency-Key): the request's hash and, once done, the response sent.
    // An in-flight row (response_status NULL) belongs to a request still being processed; it is taken
    // over only after locked_until, if that request died.
    await q.query(`
      CREATE TABLE gateway.idempotency_keys (
        actor_id        text NOT NULL,
        key             text NOT NULL,
        method          text NOT NULL,
        path            text NOT NULL,
        request_hash    text NOT NULL,
        response_status integer,
        response_body   text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        claim_token     uuid,
        locked_until    timestamptz NOT NULL,
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
    await q.query(`DROP TABLE gateway.api_keys`);
    await q.query(`DROP TABLE gateway.operators`);
  }
}
