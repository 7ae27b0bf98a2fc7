import { ConfigError, loadConfig, platformEnvSchema } from '../config/load-config';
import { migrate, type ServiceSchema } from './data-source-options';

/**
 * Entry point body for each app's `dist/migrate.js`. Migrating needs only the shared configuration
 * (DATABASE_URL), never a service's secrets or trading settings.
 */
export async function runMigrationsCli(
  service: string,
  schema: ServiceSchema,
  source: Record<string, string | undefined> = process.env,
): Promise<void> {
  try {
    const { DATABASE_URL } = loadConfig(service, platformEnvSchema, source);
    const applied = await migrate(DATABASE_URL, schema);
    process.stdout.write(
      `${service}: ${applied.length ? `applied ${applied.join(', ')}` : 'schema up to date'}\n`,
    );
  } catch (error) {
    if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
    else process.stderr.write(`${service}: migration failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
