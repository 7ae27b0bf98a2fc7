import { runMigrationsCli } from '@desk/platform';
import { AGENT_ANALYSIS_SCHEMA } from './schema';

void runMigrationsCli('agent-analysis', AGENT_ANALYSIS_SCHEMA);
