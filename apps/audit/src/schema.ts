import type { ServiceSchema } from '@desk/platform';
import { AuditEventEntity } from './modules/audit-log/audit-event.entity';
import { CreateAuditEvents1732406400000 } from './migrations/1732406400000-create-audit-events';

/** The audit service's own PostgreSQL schema: its tables and migrations. */
export const AUDIT_SCHEMA: ServiceSchema = {
  schema: 'audit',
  entities: [AuditEventEntity],
  migrations: [CreateAuditEvents1732406400000],
};
