/**
 * What the global test setup made for this run: its own database (migrated) and Redis key prefix.
 * Test files take a sub-prefix each (uniquePrefix) so their queues never see each other's jobs.
 */
export interface TestEnv {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
}

export function testEnv(): TestEnv {
  const databaseUrl = process.env.DESK_TEST_DATABASE_URL;
  const redisPrefix = process.env.DESK_TEST_REDIS_PREFIX;
  if (!databaseUrl || !redisPrefix)
    throw new Error('test environment not set up: run tests through `npm test`');
  return { databaseUrl, redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', redisPrefix };
}
