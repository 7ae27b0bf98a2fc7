import { runMigrationsCli } from '@desk/platform';
import { loadRiskConfig } from './config';
import { RISK_SCHEMA } from './schema';

void runMigrationsCli('risk', () => loadRiskConfig().DATABASE_URL, RISK_SCHEMA);
