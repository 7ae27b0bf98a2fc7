import type { DataSourceOptions, MixedList, EntitySchema } from 'typeorm';
import { DataSource } from 'typeorm';
import { PreparedStatementClient } from './prepared-client';

export interface ServiceSchema {
  /** PostgreSQL schema the service owns; it writes only there. */
  readonly schema: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly migrations: MixedList<Function | string>;
}

/**
 * TypeORM options for one service. The schema comes only from migrations: never `synchronize`. With
 * `password` (a function: the secret from Vault), the URL is taken apart so that every new connection of the
 * pool asks for the password, and a rotated one is used without a restart (a URL's own password, even an
 * empty one, would win in pg).
 */
export function dataSourceOptions(
  databaseUrl: string,
  service: ServiceSchema,
  password?: () => Promise<string>,
  preparedStatements = true,
): DataSourceOptions {
  const target = password ? connectionParts(databaseUrl, password) : { url: databaseUrl };
  return {
    type: 'postgres',
    ...target,
    schema: service.schema,
    entities: service.entities,
    migrations: service.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    // Every parameterised statement prepared once per connection (prepared-client.ts), unless turned off.
    extra: {
      max: 10,
      application_name: `desk-${service.schema}`,
      ...(preparedStatements ? { Client: PreparedStatementClient } : {}),
    },
  };
}

function connectionParts(databaseUrl: string, password: () => Promise<string>) {
  const { user, ...rest } = urlParts(databaseUrl, password);
  return { ...rest, username: user };
}

/**
 * A pg `Client`/`Pool` config for `databaseUrl`; with `password` (a function, asked on every new
 * connection) the URL is taken apart, because a URL's own password, even an empty one, overrides it in pg.
 */
export function pgConnectionConfig(databaseUrl: string, password?: () => Promise<string>) {
  return password ? urlParts(databaseUrl, password) : { connectionString: databaseUrl };
}

/** The URL's host, port, user and database, with `password`; of its parameters only `sslmode` is kept. */
function urlParts(databaseUrl: string, password: () => Promise<string>) {
  const u = new URL(databaseUrl);
  const sslmode = u.searchParams.get('sslmode');
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 5432,
    user: decodeURIComponent(u.username),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')),
    password,
    ...(sslmode && sslmode !== 'disable'
      ? { ssl: sslmode === 'no-verify' ? { rejectUnauthorized: false } : true }
      : {}),
  };
}

/** Creates the service's schema and applies its pending migrations. Returns the names applied. */
export async function migrate(databaseUrl: string, service: ServiceSchema): Promise<string[]> {
  const ds = new DataSource(dataSourceOptions(databaseUrl, service));
  await ds.initialize();
  try {
    await ds.query(`CREATE SCHEMA IF NOT EXISTS "${service.schema.replace(/"/g, '')}"`);
    const applied = await ds.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await ds.destroy();
  }
}

/** PostgreSQL's unique-violation code, for "this id was already recorded". */
export const PG_UNIQUE_VIOLATION = '23505';

export function isUniqueViolation(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    ((error as { code?: unknown }).code === PG_UNIQUE_VIOLATION ||
      (error as { driverError?: { code?: unknown } }).driverError?.code === PG_UNIQUE_VIOLATION)
  );
}

/**
 * The rows of `UPDATE/DELETE … RETURNING`. TypeORM's postgres driver answers those with
 * `[rows, affectedCount]` but answers SELECT and INSERT with the rows alone.
 */
export function returnedRows<T>(result: unknown): T[] {
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}
