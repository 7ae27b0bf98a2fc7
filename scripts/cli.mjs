// `npm run cli -- …`: the console. `audit …` goes to the audit service's CLI (verify the log), everything
// else to the gateway's (operators, keys, bootstrap). Run `npm run cli -- --help`.
import { spawnSync } from 'node:child_process';
import { localEnv, platform } from './lib/local-secrets.mjs';
import { ROOT, appEntry, build, ensureInstalled } from './lib/workspace.mjs';

const args = process.argv.slice(2);
ensureInstalled();
build({ quiet: true });
const { env, ownerUrl } = localEnv();
const { envFor } = platform();
// The gateway's console acts as the gateway (its role, its variables); the audit verifier reads the log
// as the owner, with the services possibly stopped.
const [entry, rest, childEnv] =
  args[0] === 'audit'
    ? [appEntry('audit', 'cli.js'), args.slice(1), { ...envFor('audit', env), DATABASE_URL: ownerUrl }]
    : [
        appEntry('gateway', 'cli.js'),
        args,
        // Trading commands call the API as you: your own key, from your shell only (never a flag).
        {
          ...envFor('gateway', env),
          ...(process.env.DESK_API_KEY ? { DESK_API_KEY: process.env.DESK_API_KEY } : {}),
        },
      ];
const result = spawnSync(process.execPath, [entry, ...rest], {
  cwd: ROOT,
  stdio: 'inherit',
  env: childEnv,
});
process.exit(result.status ?? 1);
