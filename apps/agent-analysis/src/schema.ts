import type { ServiceSchema } from '@desk/platform';
import { CreateAgentTables1732406600000 } from './migrations/1732406600000-create-agent-tables';
import { CreateIntentSourcesView1732407300000 } from './migrations/1732407300000-create-intent-sources-view';

/** The agent-analysis service's own PostgreSQL schema: its tables and migrations (raw SQL, no entities). */
export const AGENT_ANALYSIS_SCHEMA: ServiceSchema = {
  schema: 'agents',
  entities: [],
  migrations: [CreateAgentTables1732406600000, CreateIntentSourcesView1732407300000],
};
