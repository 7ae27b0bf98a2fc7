import { createDatabase, ensureInfra, migrateAll, uniquePrefix } from '@desk/testing';

/**
 * Once per `npm test`: reach (or start) PostgreSQL and Redis, migrate a template database with every
 * service's migrate step, and make this run's database as a copy of it; pick this run's Redis key prefix.
 * Test files that need a database of their own copy the template too (createMigratedDatabase), which no
 * test ever connects to. The workers inherit all of it through the environment; test/global-teardown.ts
 * removes it afterwards. createDatabase also runs the db-roles step (the desk's roles, cluster-wide and
 * race-safe) and migrateAll migrates as the owner role, so every test meets the real privileges
 * (docs/adr/0009-least-privilege.md).
 */
export default async function setup(): Promise<void> {
  await ensureInfra((line) => process.stdout.write(`[test setup] ${line}\n`));
  const template = await createDatabase('template');
  migrateAll(template.url);
  const db = await createDatabase('test', template.name);
  process.env.DESK_TEST_TEMPLATE_DATABASE = template.name;
  process.env.DESK_TEST_DATABASE_URL = db.url;
  process.env.DESK_TEST_DATABASE_NAME = db.name;
  process.env.DESK_TEST_REDIS_PREFIX = uniquePrefix('desk-test');
}
