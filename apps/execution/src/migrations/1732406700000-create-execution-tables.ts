import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createOutboxTableSql } from '@desk/platform';

/** Orders, their status history, fills and positions. The gateway reads these tables with SQL: keep names. */
export class CreateExecutionTables1732406700000 implements MigrationInterface {
  name = 'CreateExecutionTables1732406700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE execution.orders (
        id                 uuid PRIMARY KEY,
        venue              text NOT NULL,
        symbol             text NOT NULL,
        side               text NOT NULL,
        type               text NOT NULL,
        quantity           numeric NOT NULL,
        price              numeric,
        status             text NOT NULL,
        filled_quantity    numeric NOT NULL DEFAULT 0,
        average_fill_price numeric,
        fees               numeric NOT NULL DEFAULT 0,
        correlation_id     text NOT NULL,
        created_at         timestamptz NOT NULL DEFAULT now(),
        updated_at         timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX orders_status_idx ON execution.orders (status)`);
    await q.query(`
      CREATE TABLE execution.order_events (
        id       bigserial PRIMARY KEY,
        order_id uuid NOT NULL REFERENCES execution.orders (id),
        status   text NOT NULL,
        detail   text,
        at       timestamptz NOT NULL DEFAULT now(),
        UNIQUE (order_id, status)
      )`);
    await q.query(`
      CREATE TABLE execution.fills (
        id           text PRIMARY KEY,
        order_id     uuid NOT NULL REFERENCES execution.orders (id),
        symbol       text NOT NULL,
        side         text NOT NULL,
        price        numeric NOT NULL,
        quantity     numeric NOT NULL,
        fee          numeric NOT NULL,
        fee_currency text NOT NULL,
        at           timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX fills_order_idx ON execution.fills (order_id)`);
    await q.query(`
      CREATE TABLE execution.positions (
        symbol        text PRIMARY KEY,
        quantity      numeric NOT NULL,
        average_price numeric NOT NULL,
        realized_pnl  numeric NOT NULL,
        fees_paid     numeric NOT NULL,
        updated_at    timestamptz NOT NULL DEFAULT now()
      )`);
    for (const sql of createOutboxTableSql('execution')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE execution.positions`);
    await q.query(`DROP TABLE execution.fills`);
    await q.query(`DROP TABLE execution.order_events`);
    await q.query(`DROP TABLE execution.orders`);
    await q.query(`DROP TABLE execution.outbox`);
  }
}
