import { type ServiceSchema, outboxPublishedAsMigration } from '@desk/platform';
import { AuditEventEntity } from './modules/audit-log/audit-event.entity';
import { ChainHeadEntity, CheckpointEntity } from './modules/audit-log/chain.entity';
import { CreateAuditEvents1732406400000 } from './migrations/1732406400000-create-audit-events';
import { AuditHashChain1732406400100 } from './migrations/1732406400100-audit-hash-chain';
import { AuditReaders1732406400200 } from './migrations/1732406400200-audit-readers';
import { OutboxReceipts1732408300000 } from './migrations/1732408300000-outbox-receipts';

/** The audit service's own PostgreSQL schema: its tables and migrations. */
export const AUDIT_SCHEMA: ServiceSchema = {
  schema: 'audit',
  entities: [AuditEventEntity, ChainHeadEntity, CheckpointEntity],
  migrations: [
    CreateAuditEvents1732406400000,
    AuditHashChain1732406400100,
    AuditReaders1732406400200,
    OutboxReceipts1732408300000,
    outboxPublishedAsMigration('audit'),
  ],
};
