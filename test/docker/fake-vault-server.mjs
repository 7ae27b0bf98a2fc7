// The docker tests' stand-in for Vault + infra/vault/init.sh (no Vault server can be installed on the test
// machine): the desk's fake Vault (libs/testing, the HTTP API subset the services use: AppRole login, token
// renewal, KV v2 reads) on :8200, loaded as init.sh loads a real one: each service's database and Redis
// password, the audit signing key and the webhook secret, one AppRole per service limited to its own folder
// and shared/ (as infra/vault/policies), and the AppRole credentials file in init.sh's format.
// Runs in the desk's image (docker-compose.fake-vault.yml).
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire('/app/libs/testing/package.json');
const { startFakeVault } = require('/app/libs/testing/dist/fake-vault.js');

const SERVICES = ['gateway', 'agent-analysis', 'risk', 'execution', 'audit'];
const prefixOf = (s) => s.toUpperCase().replace(/-/g, '_');
const mount = process.env.VAULT_KV_MOUNT ?? 'secret';
const kv = process.env.VAULT_KV_PREFIX ?? 'desk';
const required = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const vault = await startFakeVault({ host: '0.0.0.0', port: 8200 });
let credentials = '';
for (const service of SERVICES) {
  const p = prefixOf(service);
  vault.put(`${kv}/${service}/database`, { password: required(`${p}_DATABASE_PASSWORD`) }, mount);
  vault.put(`${kv}/${service}/redis`, { password: required(`${p}_REDIS_PASSWORD`) }, mount);
  const role = { roleId: randomUUID(), secretId: randomUUID() };
  vault.addRole({
    ...role,
    paths: [`${kv}/${service}/`, `${kv}/shared/`],
    ttlSeconds: 3600,
    maxTtlSeconds: 86400,
  });
  credentials += `${p}_VAULT_ROLE_ID=${role.roleId}\n${p}_VAULT_SECRET_ID=${role.secretId}\n`;
}
vault.put(
  `${kv}/gateway/webhook`,
  { secret: process.env.APPROVAL_WEBHOOK_SECRET || randomBytes(32).toString('hex') },
  mount,
);
vault.put(`${kv}/audit/signing`, { private_key: required('AUDIT_SIGNING_KEY') }, mount);
writeFileSync(required('VAULT_CREDENTIALS_FILE'), credentials, { mode: 0o600 });
process.stdout.write('fake vault: listening on :8200, secrets and AppRoles loaded\n');
process.on('SIGTERM', () => void vault.close().then(() => process.exit(0)));
