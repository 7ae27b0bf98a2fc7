import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SERVICE_DATABASE_ROLES, viewReadersSql } from '@desk/platform';

/**
 * What execution reported, as declared read-only views for risk, which applies an `execution.reported` job
 * only if execution recorded it (docs/adr/0010): execution.order_status_history (each status an order went
 * through, with the order's symbol and side) and execution.order_fills (each fill). Risk's role gets SELECT
 * on these views only. Keep their names and columns: they are execution's contract with risk.
 */
export class CreateOrderReportViews1732407350000 implements MigrationInterface {
  name = 'CreateOrderReportViews1732407350000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE VIEW execution.order_status_history AS
        SELECT e.order_id AS intent_id, o.symbol, o.side, e.status, e.at
          FROM execution.order_events e JOIN execution.orders o ON o.id = e.order_id`);
    await q.query(`
      CREATE VIEW execution.order_fills AS
        SELECT id AS fill_id, order_id AS intent_id, symbol, side, price, quantity, fee, fee_currency, at
          FROM execution.fills`);
    for (const sql of viewReadersSql('execution', 'order_status_history', [SERVICE_DATABASE_ROLES.risk]))
      await q.query(sql);
    for (const sql of viewReadersSql('execution', 'order_fills', [SERVICE_DATABASE_ROLES.risk]))
      await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW execution.order_fills`);
    await q.query(`DROP VIEW execution.order_status_history`);
  }
}
