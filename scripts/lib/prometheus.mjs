// The monitoring tests run the real thing: `promtool` checks and unit-tests the alert rules, and the
// monitoring end-to-end test starts `prometheus` against the running services (docs/operations.md).
// Both come with Debian's `prometheus` package; it is installed here when missing (it runs without
// systemd: the tests start it themselves on a free port with a temporary storage directory).
import { spawnSync } from 'node:child_process';
import { fail, log, run } from './workspace.mjs';

const has = (command) => spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;

export function ensurePrometheus() {
  if (has('promtool') && has('prometheus')) return;
  if (!has('apt-get')) {
    fail(
      'prometheus and promtool are needed by the monitoring tests: install Prometheus 2.x (Debian: apt-get install prometheus)',
    );
  }
  log('installing prometheus (Debian package) for the monitoring tests');
  const root = process.getuid?.() === 0;
  if (!root && !has('sudo'))
    fail('prometheus is missing and installing it needs root: run `apt-get install prometheus` as root');
  const [command, prefix] = root ? ['apt-get', []] : ['sudo', ['-n', 'apt-get']];
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  run(command, [...prefix, 'install', '-y', '--no-install-recommends', 'prometheus'], { env });
  if (!has('promtool') || !has('prometheus'))
    fail('the prometheus package installed no promtool or prometheus');
}
