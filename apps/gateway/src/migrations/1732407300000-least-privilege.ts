import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SERVICE_DATABASE_ROLES, ownSchemaGrantsSql, revokeOwnSchemaGrantsSql } from '@desk/platform';

const { execution, gateway, risk } = SERVICE_DATABASE_ROLES;

/**
 * Least privilege (docs/adr/0009-least-privilege.md): the gateway's role uses the gateway tables; risk and
 * execution read the approvals that still count through the declared view gateway.approval_validity
 * (docs/adr/0008), and nothing else of this schema (never the key digests).
 */
export class LeastPrivilege1732407300000 implements MigrationInterface {
  name = 'LeastPrivilege1732407300000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of ownSchemaGrantsSql('gateway', gateway)) await q.query(sql);
    await q.query(`GRANT USAGE ON SCHEMA gateway TO ${risk}, ${execution}`);
    await q.query(`GRANT SELECT ON gateway.approval_validity TO ${risk}, ${execution}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE SELECT ON gateway.approval_validity FROM ${risk}, ${execution}`);
    await q.query(`REVOKE USAGE ON SCHEMA gateway FROM ${risk}, ${execution}`);
    for (const sql of revokeOwnSchemaGrantsSql('gateway', gateway)) await q.query(sql);
  }
}
