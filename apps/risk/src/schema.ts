import type { ServiceSchema } from '@desk/platform';

/** The risk service's own PostgreSQL schema: its tables and migrations. */
export const RISK_SCHEMA: ServiceSchema = {
  schema: 'risk',
  entities: [],
  migrations: [],
};
