import {
  clearRedisPrefix,
  createDatabase,
  dropDatabase,
  ensureInfra,
  migrateAll,
  uniquePrefix,
} from '@desk/testing';

/**
 * Once per `npm test`: reach (or start) PostgreSQL and Redis, create this run's own database and migrate
 * it with every service's migrate step, and pick this run's Redis key prefix. Both are removed afterwards.
 */
export default async function setup(): Promise<() => Promise<void>> {
  await ensureInfra((line) => process.stdout.write(`[test setup] ${line}\n`));
  const db = await createDatabase('test');
  migrateAll(db.url);
  const prefix = uniquePrefix('desk-test');
  process.env.DESK_TEST_DATABASE_URL = db.url;
  process.env.DESK_TEST_REDIS_PREFIX = prefix;
  return async () => {
    if (process.env.DESK_KEEP_TEST_DATA !== 'true') {
      await dropDatabase(db.name);
      await clearRedisPrefix(prefix);
    }
  };
}
