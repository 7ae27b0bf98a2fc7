import { ConfigError } from '../config/load-config';
import { migrate, type ServiceSchema } from './data-source-options';

/** Entry point body for each app's `dist/migrate.js`. */
export async function runMigrationsCli(
  service: string,
  loadUrl: () => string,
  schema: ServiceSchema,
): Promise<void> {
  try {
    const applied = await migrate(loadUrl(), schema);
    process.stdout.write(
      `${service}: ${applied.length ? `applied ${applied.join(', ')}` : 'schema up to date'}\n`,
    );
  } catch (error) {
    if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
    else process.stderr.write(`${service}: migration failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
