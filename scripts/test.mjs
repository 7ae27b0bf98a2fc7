// `npm test`: every test, on a fresh clone too. install (and prometheus, for the monitoring tests) → build → type-check and lint → jest (unit,
// integration against real PostgreSQL and Redis, end-to-end with the five services as processes).
// Extra arguments go to jest, e.g. `npm test -- --selectProjects unit`.
import { join } from 'node:path';
import { ensurePrometheus } from './lib/prometheus.mjs';
import { ROOT, build, ensureInstalled, log, run } from './lib/workspace.mjs';

ensureInstalled();
ensurePrometheus();
build();
log('type-checking and linting');
run(join(ROOT, 'node_modules', '.bin', 'turbo'), ['run', 'typecheck', '--output-logs=errors-only']);
run(join(ROOT, 'node_modules', '.bin', 'eslint'), ['.', '--max-warnings=0']);
log('running tests');
run(join(ROOT, 'node_modules', '.bin', 'jest'), process.argv.slice(2));
