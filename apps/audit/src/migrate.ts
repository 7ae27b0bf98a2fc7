import { runMigrationsCli } from '@desk/platform';
import { loadAuditConfig } from './config';
import { AUDIT_SCHEMA } from './schema';

void runMigrationsCli('audit', () => loadAuditConfig().DATABASE_URL, AUDIT_SCHEMA);
