import type { ServiceSchema } from '@desk/platform';

/** The gateway service's own PostgreSQL schema: its tables and migrations. */
export const GATEWAY_SCHEMA: ServiceSchema = {
  schema: 'gateway',
  entities: [],
  migrations: [],
};
