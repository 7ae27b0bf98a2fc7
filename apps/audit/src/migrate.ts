import { runMigrationsCli } from '@desk/platform';
import { AUDIT_SCHEMA } from './schema';

void runMigrationsCli('audit', AUDIT_SCHEMA);
