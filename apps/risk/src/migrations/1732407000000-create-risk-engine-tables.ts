import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The risk engine: the trading state, the limits, each decision on an intent, risk's full position view
 * (average price, realized P&L, fees), the execution outcomes the error-rate breaker counts, peak and
 * day-start equity, and the control commands received. The gateway reads trading_state, limits, intents
 * and intent_events: keep their names and columns.
 */
export class CreateRiskEngineTables1732407000000 implements MigrationInterface {
  name = 'CreateRiskEngineTables1732407000000';

  async up(q: QueryRunner): Promise<void> {
    // Single row. Everything that may trade reads it before acting (execution with SQL, read-only).
    await q.query(`
      CREATE TABLE risk.trading_state (
        id            integer PRIMARY KEY CHECK (id = 1),
        state         text NOT NULL CHECK (state IN ('ACTIVE', 'REDUCING', 'HALTED')),
        reason        text NOT NULL,
        set_by_type   text NOT NULL CHECK (set_by_type IN ('operator', 'service')),
        set_by_id     text NOT NULL,
        set_by_key_id text,
        source        text NOT NULL,
        set_at        timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      INSERT INTO risk.trading_state (id, state, reason, set_by_type, set_by_id, source)
      VALUES (1, 'ACTIVE', 'initial state', 'service', 'risk', 'initial')`);

    // One row per numeric limit; for every one, higher means more risk. Seeded with the defaults of
    // apps/risk/src/config.ts; 'default' rows follow the service's configuration at boot until someone
    // changes them (then the table is the truth).
    await q.query(`
      CREATE TABLE risk.limits (
        name       text PRIMARY KEY,
        value      numeric NOT NULL CHECK (value >= 0),
        updated_at timestamptz NOT NULL DEFAULT now(),
        updated_by text NOT NULL
      )`);
    await q.query(`
      INSERT INTO risk.limits (name, value, updated_by) VALUES
        ('max_order_notional', 50000, 'default'),
        ('max_position_share', 0.5, 'default'),
        ('max_gross_exposure', 200000, 'default'),
        ('daily_loss_limit', 5000, 'default'),
        ('max_orders_per_day', 1000, 'default'),
        ('max_submit_rate_per_symbol', 60, 'default'),
        ('max_submit_rate_total', 300, 'default'),
        ('price_band', 0.05, 'default')`);

    // risk.intents keeps the latest decision; intent_events keeps each one (PENDING_APPROVAL, then ACCEPTED).
    await q.query(`ALTER TABLE risk.intents DROP CONSTRAINT intents_status_check`);
    await q.query(`
      ALTER TABLE risk.intents
        ADD CONSTRAINT intents_status_check CHECK (status IN ('ACCEPTED', 'REJECTED', 'PENDING_APPROVAL')),
        ADD COLUMN reduce_only      boolean NOT NULL DEFAULT false,
        ADD COLUMN approval_id      uuid,
        ADD COLUMN received_at      timestamptz NOT NULL DEFAULT now(),
        ADD COLUMN execution_status text`);
    await q.query(`CREATE INDEX intents_received_at_idx ON risk.intents (received_at)`);
    // Accepted orders that may still fill: the pending exposure.
    await q.query(`
      CREATE INDEX intents_pending_idx ON risk.intents (symbol)
       WHERE status = 'ACCEPTED' AND (execution_status IS NULL OR execution_status NOT IN ('FILLED', 'CANCELLED'))`);
    await q.query(`
      CREATE TABLE risk.intent_events (
        id          bigserial PRIMARY KEY,
        intent_id   uuid NOT NULL REFERENCES risk.intents (id),
        status      text NOT NULL CHECK (status IN ('ACCEPTED', 'REJECTED', 'PENDING_APPROVAL')),
        reason_code text,
        reason      text,
        at          timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX intent_events_intent_idx ON risk.intent_events (intent_id, at, id)`);
    await q.query(`
      INSERT INTO risk.intent_events (intent_id, status, reason_code, reason, at)
      SELECT id, status, reason_code, reason, decided_at FROM risk.intents`);

    await q.query(`
      ALTER TABLE risk.positions
        ADD COLUMN average_price numeric NOT NULL DEFAULT 0,
        ADD COLUMN realized_pnl  numeric NOT NULL DEFAULT 0,
        ADD COLUMN fees_paid     numeric NOT NULL DEFAULT 0,
        ADD COLUMN episode       integer NOT NULL DEFAULT 0`);
    await q.query(`UPDATE risk.positions SET episode = 1 WHERE quantity <> 0`);

    // Every execution report once (id = its job id); the error-rate breaker counts these.
    await q.query(`
      CREATE TABLE risk.execution_reports (
        id          text PRIMARY KEY,
        intent_id   uuid NOT NULL,
        status      text NOT NULL,
        reason_code text,
        is_error    boolean NOT NULL,
        at          timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX execution_reports_at_idx ON risk.execution_reports (at)`);

    await q.query(`
      CREATE TABLE risk.equity_peak (
        id   integer PRIMARY KEY CHECK (id = 1),
        peak numeric NOT NULL,
        at   timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE risk.daily_equity (
        day          date NOT NULL,
        time_zone    text NOT NULL,
        start_equity numeric NOT NULL,
        recorded_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (day, time_zone)
      )`);

    // Commands from the control queue, once each (the command id is the key).
    await q.query(`
      CREATE TABLE risk.control_commands (
        id             uuid PRIMARY KEY,
        command        text NOT NULL,
        actor_type     text NOT NULL,
        actor_id       text NOT NULL,
        actor_key_id   text,
        reason         text NOT NULL,
        approval_id    uuid,
        outcome        text NOT NULL CHECK (outcome IN ('applied', 'refused')),
        detail         text,
        correlation_id text NOT NULL,
        issued_at      timestamptz NOT NULL,
        received_at    timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE risk.control_commands`);
    await q.query(`DROP TABLE risk.daily_equity`);
    await q.query(`DROP TABLE risk.equity_peak`);
    await q.query(`DROP TABLE risk.execution_reports`);
    await q.query(`
      ALTER TABLE risk.positions
        DROP COLUMN average_price, DROP COLUMN realized_pnl, DROP COLUMN fees_paid, DROP COLUMN episode`);
    await q.query(`DROP TABLE risk.intent_events`);
    await q.query(`DROP INDEX risk.intents_pending_idx`);
    await q.query(`DROP INDEX risk.intents_received_at_idx`);
    await q.query(`DELETE FROM risk.intents WHERE status = 'PENDING_APPROVAL'`);
    await q.query(`
      ALTER TABLE risk.intents
        DROP CONSTRAINT intents_status_check,
        DROP COLUMN reduce_only, DROP COLUMN approval_id, DROP COLUMN received_at, DROP COLUMN execution_status`);
    await q.query(
      `ALTER TABLE risk.intents ADD CONSTRAINT intents_status_check CHECK (status IN ('ACCEPTED', 'REJECTED'))`,
    );
    await q.query(`DROP TABLE risk.limits`);
    await q.query(`DROP TABLE risk.trading_state`);
  }
}
