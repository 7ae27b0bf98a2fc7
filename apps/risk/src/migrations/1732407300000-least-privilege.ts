import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  SERVICE_DATABASE_ROLES,
  ownSchemaGrantsSql,
  readViewSql,
  revokeOwnSchemaGrantsSql,
} from '@desk/platform';

const { execution, gateway, risk } = SERVICE_DATABASE_ROLES;

/**
 * Least privilege (docs/adr/0009-least-privilege.md): risk's role uses the risk tables; the
 * gateway reads the intents, their events, the limits, the trading state and the venues, and execution
 * the trading state and the venues, through these declared views only.
 */
export class LeastPrivilege1732407300000 implements MigrationInterface {
  name = 'LeastPrivilege1732407300000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of ownSchemaGrantsSql('risk', risk)) await q.query(sql);
    for (const sql of readViewSql('risk', 'intents_v', 'SELECT * FROM risk.intents', [gateway])) {
      await q.query(sql);
    }
    for (const sql of readViewSql('risk', 'intent_events_v', 'SELECT * FROM risk.intent_events', [gateway])) {
      await q.query(sql);
    }
    for (const sql of readViewSql('risk', 'limits_v', 'SELECT * FROM risk.limits', [gateway])) {
      await q.query(sql);
    }
    for (const sql of readViewSql('risk', 'trading_state_v', 'SELECT * FROM risk.trading_state', [
      gateway,
      execution,
    ])) {
      await q.query(sql);
    }
    for (const sql of readViewSql('risk', 'venues_v', 'SELECT * FROM risk.venues', [gateway, execution])) {
      await q.query(sql);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW risk.intents_v`);
    await q.query(`DROP VIEW risk.intent_events_v`);
    await q.query(`DROP VIEW risk.limits_v`);
    await q.query(`DROP VIEW risk.trading_state_v`);
    await q.query(`DROP VIEW risk.venues_v`);
    for (const sql of revokeOwnSchemaGrantsSql('risk', risk)) await q.query(sql);
  }
}
