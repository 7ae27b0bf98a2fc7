// Set-up steps shared by `npm start`, `npm test`, `npm run migrate` and `npm run cli`.
// Plain Node (no dependencies): these run before anything is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const APPS = ['audit', 'risk', 'execution', 'agent-analysis', 'gateway'];
const PNPM_VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).packageManager.split(
  '@',
)[1];

export function log(message) {
  process.stdout.write(`\x1b[36m[desk]\x1b[0m ${message}\n`);
}

export function fail(message) {
  process.stderr.write(`\x1b[31m[desk]\x1b[0m ${message}\n`);
  process.exit(1);
}

/**
 * Runs a command in the repository, inheriting output; exits on failure. With `exactEnv`, the child gets
 * `env` and nothing of this process's environment (how the services and migrate steps are run).
 */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, {
    cwd: ROOT,
    stdio: 'inherit',
    env: options.exactEnv
      ? options.env
      : { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', ...options.env },
  });
  if (result.status !== 0)
    fail(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
}

/** Installs dependencies when node_modules is missing or older than the lockfile. */
export function ensureInstalled() {
  const marker = join(ROOT, 'node_modules', '.modules.yaml');
  const lock = join(ROOT, 'pnpm-lock.yaml');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  log(`installing dependencies (pnpm ${PNPM_VERSION})`);
  run('npx', ['--yes', `pnpm@${PNPM_VERSION}`, 'install', '--frozen-lockfile']);
}

export function build({ quiet = false } = {}) {
  if (!quiet) log('building');
  const args = ['run', 'build', '--output-logs=errors-only'];
  if (!quiet) return run(join(ROOT, 'node_modules', '.bin', 'turbo'), args);
  // The console's own output must stay clean: show turbo's only when the build fails.
  const result = spawnSync(join(ROOT, 'node_modules', '.bin', 'turbo'), args, {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
  });
  if (result.status !== 0) fail(`build failed:\n${result.stdout}${result.stderr}`);
}

/** The environment for the services: real environment over .env.local over .env. */
export function serviceEnv() {
  const fromFile = (name) => {
    const path = join(ROOT, name);
    return existsSync(path) ? parseEnv(readFileSync(path, 'utf8')) : {};
  };
  return { ...fromFile('.env'), ...fromFile('.env.local'), ...process.env };
}

export function appEntry(app, file) {
  return join(ROOT, 'apps', app, 'dist', file);
}

/** Runs every service's migrate step (each migrates only its own schema), with exactly `env` (the owner's). */
export function migrateAll(env) {
  for (const app of APPS) run(process.execPath, [appEntry(app, 'migrate.js')], { env, exactEnv: true });
}
