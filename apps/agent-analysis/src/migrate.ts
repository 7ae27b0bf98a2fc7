import { runMigrationsCli } from '@desk/platform';
import { loadAgentAnalysisConfig } from './config';
import { AGENT_ANALYSIS_SCHEMA } from './schema';

void runMigrationsCli('agent-analysis', () => loadAgentAnalysisConfig().DATABASE_URL, AGENT_ANALYSIS_SCHEMA);
