import { createDatabase, ensureInfra, migrateAll, uniquePrefix } from '@desk/testing';

/**
 * Once per `npm test`: reach (or start) PostgreSQL and Redis, create this run's own database and migrate
 * it with every service's migrate step, and pick this run's Redis key prefix. The test workers inherit
 * them through the environment; test/global-teardown.ts removes both afterwards.
 */
export default async function setup(): Promise<void> {
  await ensureInfra((line) => process.stdout.write(`[test setup] ${line}\n`));
  const db = await createDatabase('test');
  migrateAll(db.url);
  process.env.DESK_TEST_DATABASE_URL = db.url;
  process.env.DESK_TEST_DATABASE_NAME = db.name;
  process.env.DESK_TEST_REDIS_PREFIX = uniquePrefix('desk-test');
}
