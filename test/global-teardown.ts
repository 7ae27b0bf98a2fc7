import { clearRedisPrefix, dropDatabase } from '@desk/testing';

/** After the run: drop the run's database, its template and its Redis keys (`DESK_KEEP_TEST_DATA=true` keeps them). */
export default async function teardown(): Promise<void> {
  const database = process.env.DESK_TEST_DATABASE_NAME;
  const prefix = process.env.DESK_TEST_REDIS_PREFIX;
  if (process.env.DESK_KEEP_TEST_DATA === 'true') return;
  if (database) await dropDatabase(database);
  const template = process.env.DESK_TEST_TEMPLATE_DATABASE;
  if (template) await dropDatabase(template);
  if (prefix) await clearRedisPrefix(prefix);
}
