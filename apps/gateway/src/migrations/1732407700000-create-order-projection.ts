import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The gateway's projection of every order (docs/architecture.md, "Order state machine"): built from the
 * transitions the owners publish (`order.updated`: risk from intent to decision, execution from placement to
 * fill), so reading an order never joins other services' schemas.
 *
 * On an existing desk, the projection is filled once from what the owners recorded so far (as the owner
 * role, through their declared views) when those exist: on a fresh database the gateway migrates after
 * risk and execution, and there is nothing to copy.
 */
export class CreateOrderProjection1732407700000 implements MigrationInterface {
  name = 'CreateOrderProjection1732407700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE gateway.orders (
        id            uuid PRIMARY KEY,
        source        text,
        symbol        text NOT NULL,
        side          text NOT NULL,
        type          text NOT NULL,
        quantity      numeric NOT NULL,
        price         numeric,
        status        text NOT NULL,
        -- Which owner's event set the status (0 the gateway's RECEIVED, 1 risk, 2 execution) and its event id:
        -- a status only ever moves forward, whatever order the updates arrive in.
        status_phase  smallint NOT NULL,
        status_seq    bigint NOT NULL,
        reason_code   text,
        submitted_at  timestamptz NOT NULL,
        updated_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX orders_submitted_idx ON gateway.orders (submitted_at DESC, id DESC)`);
    await q.query(`CREATE INDEX orders_status_idx ON gateway.orders (status, submitted_at DESC)`);
    await q.query(`
      CREATE TABLE gateway.order_events (
        order_id    uuid NOT NULL,
        owner       text NOT NULL CHECK (owner IN ('risk', 'execution')),
        seq         bigint NOT NULL,
        status      text NOT NULL,
        reason_code text,
        detail      text,
        at          timestamptz NOT NULL,
        PRIMARY KEY (order_id, owner, seq)
      )`);
    await q.query(`
      CREATE TABLE gateway.order_fills (
        id           text PRIMARY KEY,
        order_id     uuid NOT NULL,
        price        numeric NOT NULL,
        quantity     numeric NOT NULL,
        fee          numeric NOT NULL,
        fee_currency text NOT NULL,
        at           timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX order_fills_order_idx ON gateway.order_fills (order_id)`);

    await q.query(`
      INSERT INTO gateway.orders
        (id, source, symbol, side, type, quantity, price, status, status_phase, status_seq, submitted_at)
      SELECT id, 'operator', symbol, side, type, quantity, price, 'RECEIVED', 0, 0, submitted_at
        FROM gateway.submissions`);
    const [views] = (await q.query(
      `SELECT to_regclass('risk.intents_v') IS NOT NULL AND to_regclass('risk.intent_events_v') IS NOT NULL
          AND to_regclass('execution.order_events_v') IS NOT NULL AND to_regclass('execution.fills_v') IS NOT NULL
          AS ready`,
    )) as { ready: boolean }[];
    if (!views?.ready) return;
    await q.query(`
      INSERT INTO gateway.orders
        (id, source, symbol, side, type, quantity, price, status, status_phase, status_seq, submitted_at)
      SELECT id, source, symbol, side, type, quantity, price, 'RECEIVED', 0, 0, submitted_at FROM risk.intents_v
      ON CONFLICT (id) DO UPDATE SET source = EXCLUDED.source`);
    await q.query(`
      INSERT INTO gateway.order_events (order_id, owner, seq, status, reason_code, detail, at)
      SELECT intent_id, 'risk', id, status, reason_code, left(reason, 500), at FROM risk.intent_events_v`);
    await q.query(`
      INSERT INTO gateway.order_events (order_id, owner, seq, status, reason_code, detail, at)
      SELECT e.order_id, 'execution', e.id, e.status, NULL, left(e.detail, 500), e.at
        FROM execution.order_events_v e JOIN gateway.orders o ON o.id = e.order_id`);
    await q.query(`
      INSERT INTO gateway.order_fills (id, order_id, price, quantity, fee, fee_currency, at)
      SELECT f.id, f.order_id, f.price, f.quantity, f.fee, f.fee_currency, f.at
        FROM execution.fills_v f JOIN gateway.orders o ON o.id = f.order_id`);
    await q.query(`
      UPDATE gateway.orders o
         SET status = x.status, status_phase = x.phase, status_seq = x.seq, reason_code = x.reason_code
        FROM (SELECT DISTINCT ON (order_id) order_id, status, seq, reason_code,
                     CASE owner WHEN 'risk' THEN 1 ELSE 2 END AS phase
                FROM gateway.order_events
               ORDER BY order_id, CASE owner WHEN 'risk' THEN 1 ELSE 2 END DESC, seq DESC) x
       WHERE x.order_id = o.id`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE gateway.order_fills`);
    await q.query(`DROP TABLE gateway.order_events`);
    await q.query(`DROP TABLE gateway.orders`);
  }
}
