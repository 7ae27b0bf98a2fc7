// `npm run migrate`: applies every service's pending migrations (each to its own schema).
import { ensureLocalInfra } from './lib/local-infra.mjs';
import { build, ensureInstalled, log, migrateAll, serviceEnv } from './lib/workspace.mjs';

ensureInstalled();
build();
const env = serviceEnv();
await ensureLocalInfra(env);
log('migrating the database');
migrateAll(env);
