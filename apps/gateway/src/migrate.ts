import { loadConfig, platformEnvSchema, runMigrationsCli } from '@desk/platform';
import { GATEWAY_SCHEMA } from './schema';

// Migrating needs only the database, not the gateway's secrets.
void runMigrationsCli(
  'gateway',
  () => loadConfig('gateway', platformEnvSchema, process.env).DATABASE_URL,
  GATEWAY_SCHEMA,
);
