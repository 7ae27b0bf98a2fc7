import type { ServiceSchema } from '@desk/platform';

/** The agent-analysis service's own PostgreSQL schema: its tables and migrations. */
export const AGENT_ANALYSIS_SCHEMA: ServiceSchema = {
  schema: 'agents',
  entities: [],
  migrations: [],
};
