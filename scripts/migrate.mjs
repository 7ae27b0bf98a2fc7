// `npm run migrate`: applies every service's pending migrations (each to its own schema), as the owner role
// after the db-roles step (docs/adr/0009).
import { ensureLocalInfra } from './lib/local-infra.mjs';
import { ensureLocalSecrets, localEnv, migrateEnv } from './lib/local-secrets.mjs';
import { build, ensureInstalled, log, migrateAll } from './lib/workspace.mjs';

ensureInstalled();
build();
ensureLocalSecrets();
const { env, ownerUrl, adminUrl } = localEnv();
await ensureLocalInfra(adminUrl, env);
log('migrating the database (as the owner role)');
migrateAll(migrateEnv(env, ownerUrl));
