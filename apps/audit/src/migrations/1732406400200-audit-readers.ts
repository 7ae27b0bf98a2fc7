import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SERVICE_DATABASE_ROLES } from '@desk/platform';

const { gateway } = SERVICE_DATABASE_ROLES;

/**
 * Least privilege (docs/adr/0009-least-privilege.md). The audit service's own grants are the hash-chain
 * migration's (INSERT and SELECT on the log). The gateway answers audit queries and verifies the chain
 * (POST /v1/audit/verifications), so its role may SELECT the log, the chain head and the checkpoints: the log's
 * stored columns are the hash chain's contract (docs/adr/0005), read as they are, never written.
 */
export class AuditReaders1732406400200 implements MigrationInterface {
  name = 'AuditReaders1732406400200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`GRANT USAGE ON SCHEMA audit TO ${gateway}`);
    await q.query(`GRANT SELECT ON audit.audit_events, audit.checkpoints, audit.chain_head TO ${gateway}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE SELECT ON audit.audit_events, audit.checkpoints, audit.chain_head FROM ${gateway}`);
    await q.query(`REVOKE USAGE ON SCHEMA audit FROM ${gateway}`);
  }
}
