import { runMigrationsCli } from '@desk/platform';
import { RISK_SCHEMA } from './schema';

void runMigrationsCli('risk', RISK_SCHEMA);
