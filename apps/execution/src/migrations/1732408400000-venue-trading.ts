import type { MigrationInterface, QueryRunner } from 'typeorm';
import { MARKET_CATALOG, PAPER_VENUE } from '@desk/contracts';
import { SERVICE_DATABASE_ROLES, readViewSql } from '@desk/platform';

const { gateway, risk } = SERVICE_DATABASE_ROLES;

/**
 * Trading on real venues (issue 16, docs/adr/0023):
 * - orders carry time in force, post-only, the client order id sent to the venue and the venue's own id,
 *   how many times placement was attempted, and the reason code of their last transition;
 * - an order's history may hold a status more than once (each partial fill, a placement retried after the
 *   venue said it never got it): events are unique by an event key instead of by status;
 * - execution.markets: the venue's catalog (loadMarkets), shown to the gateway and risk as
 *   execution.market_catalog; execution.balances (gateway: execution.venue_balances);
 *   execution.reconciliations (gateway: execution.reconciliation_reports);
 *   execution.cancel_request_runs: the operator cancels execution ran (gateway: cancel_request_receipts).
 * Keep the views' names and columns: they are execution's contract with their readers.
 */
export class VenueTrading1732408400000 implements MigrationInterface {
  name = 'VenueTrading1732408400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE execution.orders
        ADD COLUMN time_in_force   text,
        ADD COLUMN post_only       boolean NOT NULL DEFAULT false,
        ADD COLUMN client_order_id text,
        ADD COLUMN venue_order_id  text,
        ADD COLUMN place_attempts  integer NOT NULL DEFAULT 0,
        ADD COLUMN reason_code     text,
        ADD COLUMN lease_until     timestamptz,
        ADD COLUMN next_attempt_at timestamptz,
        ADD COLUMN cancel_reason_code text,
        ADD COLUMN cancel_reason      text,
        ADD COLUMN cancel_context     jsonb`);
    await q.query(`UPDATE execution.orders SET client_order_id = replace(id::text, '-', '')`);
    await q.query(`ALTER TABLE execution.orders ALTER COLUMN client_order_id SET NOT NULL`);
    await q.query(
      `CREATE UNIQUE INDEX orders_client_order_id_idx ON execution.orders (venue, client_order_id)`,
    );
    await q.query(`ALTER TABLE execution.order_events ADD COLUMN event_key text`);
    await q.query(`UPDATE execution.order_events SET event_key = status`);
    await q.query(`ALTER TABLE execution.order_events ALTER COLUMN event_key SET NOT NULL`);
    await q.query(`ALTER TABLE execution.order_events DROP CONSTRAINT order_events_order_id_status_key`);
    await q.query(`ALTER TABLE execution.order_events ADD UNIQUE (order_id, event_key)`);
    await q.query(`ALTER TABLE execution.fills ADD COLUMN trade_id text`);
    await q.query(`
      CREATE TABLE execution.markets (
        venue              text NOT NULL,
        symbol             text NOT NULL,
        base               text NOT NULL,
        quote              text NOT NULL,
        tick_size          numeric NOT NULL CHECK (tick_size > 0),
        step_size          numeric NOT NULL CHECK (step_size > 0),
        min_quantity       numeric NOT NULL CHECK (min_quantity >= 0),
        min_notional       numeric CHECK (min_notional >= 0),
        price_precision    integer NOT NULL,
        quantity_precision integer NOT NULL,
        loaded_at          timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (venue, symbol)
      )`);
    // A fresh desk has the paper venue's static catalog; execution replaces it with its venue's at boot.
    for (const m of MARKET_CATALOG) {
      await q.query(
        `INSERT INTO execution.markets (venue, symbol, base, quote, tick_size, step_size, min_quantity,
           min_notional, price_precision, quantity_precision)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          PAPER_VENUE,
          m.symbol,
          m.base,
          m.quote,
          m.tickSize,
          m.stepSize,
          m.minQuantity,
          m.minNotional,
          m.pricePrecision,
          m.quantityPrecision,
        ],
      );
    }
    for (const sql of readViewSql(
      'execution',
      'market_catalog',
      `SELECT venue, symbol, base, quote, tick_size, step_size, min_quantity, min_notional, price_precision,
              quantity_precision, loaded_at
         FROM execution.markets`,
      [gateway, risk],
    ))
      await q.query(sql);
    await q.query(`
      CREATE TABLE execution.balances (
        venue      text NOT NULL,
        asset      text NOT NULL,
        free       numeric NOT NULL,
        used       numeric NOT NULL,
        total      numeric NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (venue, asset)
      )`);
    for (const sql of readViewSql(
      'execution',
      'venue_balances',
      'SELECT venue, asset, free, used, total, updated_at FROM execution.balances',
      [gateway],
    ))
      await q.query(sql);
    await q.query(`
      CREATE TABLE execution.reconciliations (
        id          bigserial PRIMARY KEY,
        venue       text NOT NULL,
        trigger     text NOT NULL,
        started_at  timestamptz NOT NULL,
        finished_at timestamptz NOT NULL,
        outcome     text NOT NULL CHECK (outcome IN ('in_sync', 'differences', 'failed')),
        findings    jsonb NOT NULL
      )`);
    for (const sql of readViewSql(
      'execution',
      'reconciliation_reports',
      `SELECT id::text AS id, venue, trigger, started_at, finished_at, outcome, findings
         FROM execution.reconciliations`,
      // Risk counts findings toward its error-rate breaker.
      [gateway, risk],
    ))
      await q.query(sql);
    // The paper venue's own book (the simulated exchange's side: execution.orders is the desk's side).
    await q.query(`
      CREATE TABLE execution.paper_orders (
        client_order_id text PRIMARY KEY,
        venue_order_id  bigserial UNIQUE,
        symbol          text NOT NULL,
        side            text NOT NULL,
        type            text NOT NULL,
        quantity        numeric NOT NULL,
        price           numeric,
        time_in_force   text,
        post_only       boolean NOT NULL,
        status          text NOT NULL,
        filled_quantity numeric NOT NULL DEFAULT 0,
        detail          text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX paper_orders_open_idx ON execution.paper_orders (status)`);
    await q.query(`
      CREATE TABLE execution.paper_trades (
        id              bigserial PRIMARY KEY,
        client_order_id text NOT NULL REFERENCES execution.paper_orders (client_order_id),
        symbol          text NOT NULL,
        side            text NOT NULL,
        price           numeric NOT NULL,
        quantity        numeric NOT NULL,
        fee             numeric NOT NULL,
        fee_currency    text NOT NULL,
        at              timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX paper_trades_order_idx ON execution.paper_trades (client_order_id)`);
    await q.query(`
      CREATE TABLE execution.cancel_request_runs (
        request_id uuid PRIMARY KEY,
        cancelled  integer NOT NULL,
        ran_at     timestamptz NOT NULL DEFAULT now()
      )`);
    for (const sql of readViewSql(
      'execution',
      'cancel_request_receipts',
      'SELECT request_id, cancelled, ran_at FROM execution.cancel_request_runs',
      [gateway],
    ))
      await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const view of [
      'cancel_request_receipts',
      'reconciliation_reports',
      'venue_balances',
      'market_catalog',
    ])
      await q.query(`DROP VIEW execution.${view}`);
    await q.query(`DROP TABLE execution.cancel_request_runs`);
    await q.query(`DROP TABLE execution.paper_trades`);
    await q.query(`DROP TABLE execution.paper_orders`);
    await q.query(`DROP TABLE execution.reconciliations`);
    await q.query(`DROP TABLE execution.balances`);
    await q.query(`DROP TABLE execution.markets`);
    await q.query(`ALTER TABLE execution.fills DROP COLUMN trade_id`);
    await q.query(`ALTER TABLE execution.order_events DROP CONSTRAINT order_events_order_id_event_key_key`);
    await q.query(`ALTER TABLE execution.order_events ADD UNIQUE (order_id, status)`);
    await q.query(`ALTER TABLE execution.order_events DROP COLUMN event_key`);
    await q.query(`DROP INDEX execution.orders_client_order_id_idx`);
    await q.query(`
      ALTER TABLE execution.orders
        DROP COLUMN time_in_force, DROP COLUMN post_only, DROP COLUMN client_order_id,
        DROP COLUMN venue_order_id, DROP COLUMN place_attempts, DROP COLUMN reason_code,
        DROP COLUMN lease_until, DROP COLUMN next_attempt_at, DROP COLUMN cancel_reason_code,
        DROP COLUMN cancel_reason, DROP COLUMN cancel_context`);
  }
}
