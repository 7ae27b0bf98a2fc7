// Supply-chain checks run by .ci/run before the tests (SECURITY.md, "Supply chain"):
// 1. Secret scan of the repository with secretlint (.secretlintrc.json: the recommended rules; documented
//    placeholders such as `change-me` allowed). Threshold: any finding fails.
// 2. Dependency audit of the lockfile (`pnpm audit`). Threshold: a high or critical advisory fails; moderate
//    and low are printed. When the registry's audit endpoint does not answer (some registries and mirrors
//    answer 405), the audit did NOT run: this says so plainly and the check is reported as not run, never
//    as passed. DESK_REQUIRE_AUDIT=1 makes that a failure (for CI where the endpoint must answer).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, ensureInstalled, fail, log } from './lib/workspace.mjs';

const bin = (name) => join(ROOT, 'node_modules', '.bin', name);
ensureInstalled();

log('secret scan (secretlint, every file of the repository but .secretlintignore)');
const scan = spawnSync(bin('secretlint'), ['**/*'], { cwd: ROOT, stdio: 'inherit' });
if (scan.status !== 0) fail('secret scan: findings above (threshold: any finding fails)');
log('secret scan: no findings');

log('dependency audit (pnpm audit against pnpm-lock.yaml; threshold: high)');
const audit = spawnSync(bin('pnpm'), ['audit', '--audit-level', 'high'], { cwd: ROOT, encoding: 'utf8' });
const output = `${audit.stdout}${audit.stderr}`;
if (/ERR_PNPM_AUDIT_BAD_RESPONSE|ERR_PNPM_AUDIT_ENDPOINT|audit endpoint .* responded with/.test(output)) {
  const reason = /responded with (\d+)/.exec(output)?.[1] ?? 'an error';
  const message =
    `DEPENDENCY AUDIT NOT RUN: the registry's audit endpoint answered ${reason}; ` +
    'no advisory was checked (this is not a pass).';
  if (process.env.DESK_REQUIRE_AUDIT === '1') fail(message);
  process.stdout.write(`\x1b[33m[desk] ${message}\x1b[0m\n`);
} else {
  process.stdout.write(output);
  if (audit.status !== 0) fail('dependency audit: high or critical advisories above');
  log('dependency audit: no high or critical advisory');
}
