import type { ServiceSchema } from '@desk/platform';

/** The execution service's own PostgreSQL schema: its tables and migrations. */
export const EXECUTION_SCHEMA: ServiceSchema = {
  schema: 'execution',
  entities: [],
  migrations: [],
};
