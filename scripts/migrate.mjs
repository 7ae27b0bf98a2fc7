// `npm run migrate`: applies every service's pending migrations (each to its own schema), as the owner role
// after the db-roles step (docs/adr/0009). In the image (docker-compose.yml's one-shot `migrate` service,
// DESK_IMAGE set) the code is built already and the secrets come from the environment; there it also creates
// the per-service Redis ACL users, as `npm start` does locally.
import { ensureLocalInfra, ensureLocalRedisUsers } from './lib/local-infra.mjs';
import { ensureLocalSecrets, localEnv, migrateEnv } from './lib/local-secrets.mjs';
import { build, ensureInstalled, log, migrateAll } from './lib/workspace.mjs';

const inImage = Boolean(process.env.DESK_IMAGE);
if (!inImage) {
  ensureInstalled();
  build();
  ensureLocalSecrets();
}
const { env, ownerUrl, adminUrl } = localEnv();
await ensureLocalInfra(adminUrl, env);
if (inImage) await ensureLocalRedisUsers(env);
log('migrating the database (as the owner role)');
migrateAll(migrateEnv(env, ownerUrl));
