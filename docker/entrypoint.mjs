// The image's entrypoint (Dockerfile): `main` starts the service named by DESK_SERVICE, `cli …` runs its
// console (gateway: `docker-compose exec gateway desk cli bootstrap`), `migrate` runs the one-shot set-up
// (scripts/migrate.mjs: database, roles, Redis users, every service's migrations).
// A service's own Vault AppRole credentials are read from the file infra/vault/init.sh writes
// (VAULT_CREDENTIALS_FILE): only the lines of this service (<SERVICE>_VAULT_*) are taken, never another's.
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

const SERVICES = ['gateway', 'agent-analysis', 'risk', 'execution', 'audit'];
const [command = 'main', ...args] = process.argv.slice(2);

function fail(message) {
  process.stderr.write(`entrypoint: ${message}\n`);
  process.exit(2);
}

if (command === 'migrate') {
  await import('/app/scripts/migrate.mjs');
} else {
  const service = process.env.DESK_SERVICE ?? '';
  if (!SERVICES.includes(service)) fail(`DESK_SERVICE must be one of ${SERVICES.join(', ')}`);
  const prefix = `${service.toUpperCase().replace(/-/g, '_')}_VAULT_`;
  const file = process.env.VAULT_CREDENTIALS_FILE;
  if (process.env.VAULT_ADDR && file) {
    if (!existsSync(file)) fail(`VAULT_ADDR is set but ${file} (written by infra/vault/init.sh) is missing`);
    for (const [name, value] of Object.entries(parseEnv(readFileSync(file, 'utf8')))) {
      if (name.startsWith(prefix)) process.env[name] ??= value;
    }
  }
  if (command === 'main') {
    await import(`/app/apps/${service}/dist/main.js`);
  } else if (command === 'cli') {
    const entry = `/app/apps/${service}/dist/cli.js`;
    if (!existsSync(entry)) fail(`${service} has no console`);
    process.argv = [process.argv[0], entry, ...args];
    await import(entry);
  } else {
    fail(`unknown command "${command}" (main, cli or migrate)`);
  }
}
