import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// SWC keeps decorator metadata, which NestJS dependency injection needs (esbuild drops it).
const plugins = [swc.vite({ module: { type: 'es6' } })];

/**
 * Three tiers (see docs/testing.md): unit specs beside the code, integration tests under each app's test/
 * against real PostgreSQL and Redis, and end-to-end tests that start the five services as processes.
 */
export default defineConfig({
  plugins,
  test: {
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 120_000,
    projects: [
      {
        plugins,
        test: {
          name: 'unit',
          include: ['apps/*/src/**/*.spec.ts', 'libs/*/src/**/*.spec.ts', 'test/*.spec.ts'],
        },
      },
      {
        plugins,
        test: {
          name: 'integration',
          include: ['apps/*/test/**/*.int-spec.ts', 'libs/*/test/**/*.int-spec.ts'],
          testTimeout: 30_000,
          hookTimeout: 120_000,
        },
      },
      {
        plugins,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.e2e-spec.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
