import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  SERVICE_DATABASE_ROLES,
  ownSchemaGrantsSql,
  readViewSql,
  revokeOwnSchemaGrantsSql,
} from '@desk/platform';

const { execution, gateway } = SERVICE_DATABASE_ROLES;

/**
 * Least privilege (docs/adr/0009-least-privilege.md): execution's role uses the execution tables; the
 * gateway reads orders, their events, fills and positions through these declared views only.
 */
export class LeastPrivilege1732407300000 implements MigrationInterface {
  name = 'LeastPrivilege1732407300000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of ownSchemaGrantsSql('execution', execution)) await q.query(sql);
    for (const sql of readViewSql('execution', 'orders_v', 'SELECT * FROM execution.orders', [gateway])) {
      await q.query(sql);
    }
    for (const sql of readViewSql('execution', 'order_events_v', 'SELECT * FROM execution.order_events', [
      gateway,
    ])) {
      await q.query(sql);
    }
    for (const sql of readViewSql('execution', 'fills_v', 'SELECT * FROM execution.fills', [gateway])) {
      await q.query(sql);
    }
    for (const sql of readViewSql('execution', 'positions_v', 'SELECT * FROM execution.positions', [
      gateway,
    ])) {
      await q.query(sql);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW execution.orders_v`);
    await q.query(`DROP VIEW execution.order_events_v`);
    await q.query(`DROP VIEW execution.fills_v`);
    await q.query(`DROP VIEW execution.positions_v`);
    for (const sql of revokeOwnSchemaGrantsSql('execution', execution)) await q.query(sql);
  }
}
