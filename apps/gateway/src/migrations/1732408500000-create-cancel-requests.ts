import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SERVICE_DATABASE_ROLES, readViewSql } from '@desk/platform';

/**
 * gateway.cancel_requests: every cancel an operator asked for (one order, or every working order of a
 * symbol), written in the same transaction as the outbox row that sends it to execution and its audit
 * event. Append-only: the gateway's role may insert and read, never change or delete a row.
 *
 * gateway.cancel_request_sources: the declared read-only view of it for execution, which cancels only
 * what a row here asked for (docs/adr/0010): a forged order.cancel_requested job cancels nothing. Execution's
 * role gets SELECT on this view only. Keep its name and columns: they are the gateway's contract with
 * execution.
 */
export class CreateCancelRequests1732408500000 implements MigrationInterface {
  name = 'CreateCancelRequests1732408500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE gateway.cancel_requests (
        id             uuid PRIMARY KEY,
        actor_type     text NOT NULL,
        actor_id       text NOT NULL,
        actor_key_id   text,
        target_kind    text NOT NULL CHECK (target_kind IN ('order', 'symbol')),
        intent_id      uuid,
        symbol         text,
        requested_at   timestamptz NOT NULL,
        correlation_id text NOT NULL,
        CHECK ((target_kind = 'order') = (intent_id IS NOT NULL)),
        CHECK ((target_kind = 'symbol') = (symbol IS NOT NULL))
      )`);
    await q.query(
      `CREATE INDEX cancel_requests_intent_idx ON gateway.cancel_requests (intent_id, requested_at)`,
    );
    await q.query(
      `CREATE INDEX cancel_requests_symbol_idx ON gateway.cancel_requests (symbol, requested_at)`,
    );
    await q.query(
      `REVOKE UPDATE, DELETE, TRUNCATE ON gateway.cancel_requests FROM ${SERVICE_DATABASE_ROLES.gateway}`,
    );
    for (const sql of readViewSql(
      'gateway',
      'cancel_request_sources',
      `SELECT id AS request_id, actor_type, actor_id, actor_key_id, target_kind, intent_id, symbol, requested_at
         FROM gateway.cancel_requests`,
      [SERVICE_DATABASE_ROLES.execution],
    ))
      await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW gateway.cancel_request_sources`);
    await q.query(`DROP TABLE gateway.cancel_requests`);
  }
}
