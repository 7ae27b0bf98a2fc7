// `npm run cli -- …`: the console. `audit …` goes to the audit service's CLI (verify the log), everything
// else to the gateway's (operators, keys, bootstrap). Run `npm run cli -- --help`.
import { spawnSync } from 'node:child_process';
import { ROOT, appEntry, build, ensureInstalled, serviceEnv } from './lib/workspace.mjs';

const args = process.argv.slice(2);
ensureInstalled();
build({ quiet: true });
const [entry, rest] =
  args[0] === 'audit' ? [appEntry('audit', 'cli.js'), args.slice(1)] : [appEntry('gateway', 'cli.js'), args];
const result = spawnSync(process.execPath, [entry, ...rest], {
  cwd: ROOT,
  stdio: 'inherit',
  env: serviceEnv(),
});
process.exit(result.status ?? 1);
