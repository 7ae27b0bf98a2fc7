// Three tiers (docs/adr/0004-testing.md): unit specs beside the code, integration tests under each app's
// test/ against real PostgreSQL and Redis, and end-to-end tests that start the five services as processes.
// One tier alone: `npm test -- --selectProjects unit` (or integration, e2e).

/**
 * SWC strips the types and keeps the decorator metadata that NestJS dependency injection reads. Only our
 * TypeScript goes through it, and the few ESM-only packages our dependencies require() (jest's module
 * system cannot load ESM through require on Node.js 20): the libs' built dist/ and the rest of node_modules
 * load as plain CommonJS, untransformed.
 */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
  },
];
// light-my-request (fastify's inject) requires cookie@2; ccxt's CommonJS build requires @noble/* and @scure/*
// v2, which are ESM only.
const ESM_ONLY = ['cookie', '@noble/curves', '@noble/hashes', '@scure/base', '@scure/starknet'];
const esmOnly = `(${ESM_ONLY.join('|')})`;
const transform = { '^.+\\.ts$': swc, [`/node_modules/${esmOnly}/.+\\.js$`]: swc };
// pnpm's store directory of a scoped package is .pnpm/@scope+name@version: any store directory, then the name.
const transformIgnorePatterns = [`/node_modules/(?!(\\.pnpm/[^/]+/node_modules/)?${esmOnly}/)`];

const tier = (displayName, testMatch, options = {}) => ({
  displayName: {
    name: displayName,
    color: { unit: 'green', integration: 'blue', e2e: 'magenta', docker: 'cyan' }[displayName],
  },
  rootDir: import.meta.dirname,
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'],
  testMatch: testMatch.map((glob) => `<rootDir>/${glob}`),
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform,
  transformIgnorePatterns,
  testEnvironment: 'node',
  // Jest 30 "soft-deletes" what a finished file left on the global scope by wrapping each property in a
  // warning getter/setter. Objects that outlive a file (@sentry/node's carrier, reached through node's
  // diagnostics channels) are wrapped again by every later file of the same worker, until setting one of
  // their properties overflows the stack: a 500 ("cb is not a function") deep in Fastify's error path.
  // Workers are recycled by memory instead (workerIdleMemoryLimit below).
  testEnvironmentOptions: { globalsCleanup: 'off' },
  setupFilesAfterEnv: ['<rootDir>/test/jest/tier-timeout.ts'],
  ...options,
});

/** @type {import('jest').Config} */
export default {
  // Once per run: reach or start PostgreSQL and Redis, make this run's database and Redis prefix.
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  // Both cores (jest's default leaves one idle): integration files wait on PostgreSQL and Redis a lot.
  maxWorkers: 2,
  // A worker keeps some of every finished file's module graph (its heap grows 5-30 MB per file) and a big
  // worker takes longer than jest's 500 ms to exit, which jest reports as a force-exited, leaking worker.
  // Recycling a worker past 300 MB keeps them small (docs/adr/0004-testing.md).
  workerIdleMemoryLimit: '300MB',
  cacheDirectory: '<rootDir>/node_modules/.cache/jest',
  projects: [
    tier('unit', ['apps/*/src/**/*.spec.ts', 'libs/*/src/**/*.spec.ts', 'test/*.spec.ts']),
    tier(
      'integration',
      ['apps/*/test/**/*.int-spec.ts', 'libs/*/test/**/*.int-spec.ts', 'test/integration/*.int-spec.ts'],
      {
        globals: { TIER_TIMEOUT_MS: 120_000 },
      },
    ),
    // Each e2e file starts five services: one file at a time, in the jest process. jest runs one runner's
    // files after another's, so they never share the machine with the parallel tiers either.
    tier('e2e', ['test/e2e/**/*.e2e-spec.ts'], {
      runner: '<rootDir>/test/jest/serial-runner.cjs',
      globals: { TIER_TIMEOUT_MS: 180_000 },
    }),
    // The deployment itself (docker-compose.yml on a real Docker engine; test/docker/): one file, after the
    // others, alone on the machine. scripts/docker-stack.mjs installs and starts what it needs.
    tier('docker', ['test/docker/**/*.docker-spec.ts'], {
      runner: '<rootDir>/test/jest/serial-runner.cjs',
      globals: { TIER_TIMEOUT_MS: 300_000 },
    }),
  ],
};
