import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  SERVICE_DATABASE_ROLES,
  ownSchemaGrantsSql,
  readViewSql,
  revokeOwnSchemaGrantsSql,
} from '@desk/platform';

const { 'agent-analysis': agents, gateway } = SERVICE_DATABASE_ROLES;

/**
 * Least privilege (docs/adr/0009-least-privilege.md): agent-analysis's role uses the agents tables;
 * the gateway reads signals and decisions through these declared views only.
 */
export class LeastPrivilege1732407300000 implements MigrationInterface {
  name = 'LeastPrivilege1732407300000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of ownSchemaGrantsSql('agents', agents)) await q.query(sql);
    for (const sql of readViewSql('agents', 'signals_v', 'SELECT * FROM agents.signals', [gateway])) {
      await q.query(sql);
    }
    for (const sql of readViewSql('agents', 'decisions_v', 'SELECT * FROM agents.decisions', [gateway])) {
      await q.query(sql);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW agents.signals_v`);
    await q.query(`DROP VIEW agents.decisions_v`);
    for (const sql of revokeOwnSchemaGrantsSql('agents', agents)) await q.query(sql);
  }
}
