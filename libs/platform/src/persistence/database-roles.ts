import { Client } from 'pg';

/**
 * The PostgreSQL roles of the desk (docs/adr/0009-least-privilege.md). Roles are cluster-wide; the names
 * are fixed because the migrations grant to them.
 *
 * - `desk_owner` owns every schema, table and view: the migrate steps log in as it. No service does.
 * - one login role per service, which may use its own schema's tables (DML only, never DDL) and SELECT
 *   the declared read views of the schemas it reads.
 */
export const DATABASE_OWNER_ROLE = 'desk_owner';

export const SERVICE_DATABASE_ROLES = {
  gateway: 'desk_gateway',
  'agent-analysis': 'desk_agents',
  risk: 'desk_risk',
  execution: 'desk_execution',
  audit: 'desk_audit',
} as const;

export type DeskService = keyof typeof SERVICE_DATABASE_ROLES;
export const DESK_SERVICES = Object.keys(SERVICE_DATABASE_ROLES) as DeskService[];

/** NOLOGIN role holding SELECT on the audit tables (docs/adr/0005); created here so no migration needs CREATEROLE. */
export const AUDIT_READER_ROLE = 'desk_audit_reader';

/** The schemas the desk's migrations create, adopted by the owner role if an older install made them. */
export const DESK_SCHEMAS = ['gateway', 'agents', 'risk', 'execution', 'audit'] as const;

const ROLE_ATTRIBUTES = 'NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS';

/** `url` with its user (and password) replaced: the connection of `role` to the same database. */
export function roleDatabaseUrl(url: string, role: string, password?: string): string {
  const u = new URL(url);
  u.username = role;
  u.password = password ? encodeURIComponent(password) : '';
  return u.toString();
}

/**
 * A service's connection: its own URL when configured, else `databaseUrl` with the service's role as user
 * and no password (a password in `databaseUrl` is the owner's and never goes to another role).
 */
export function serviceDatabaseUrl(databaseUrl: string, role: string, explicit?: string): string {
  return explicit ?? roleDatabaseUrl(databaseUrl, role);
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function createRoleSql(role: string, login: boolean): string {
  const attributes = `${login ? 'LOGIN' : 'NOLOGIN'} ${ROLE_ATTRIBUTES}`;
  // IF NOT EXISTS skips the usual case; the handler covers two sessions creating the role at once. A role
  // made elsewhere (an older audit migration) is altered only when its attributes differ, so concurrent
  // runs do not update the same catalog row ("tuple concurrently updated").
  return `DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}') THEN
      CREATE ROLE ${role} ${attributes};
    ELSIF EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}' AND (rolcanlogin <> ${login} OR rolsuper
                  OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls)) THEN
      ALTER ROLE ${role} ${attributes};
    END IF;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END $$`;
}

/** Hands schemas and objects an older install created as another user over to the owner role. */
function adoptSchemasSql(): string {
  const schemas = `ARRAY[${DESK_SCHEMAS.map((s) => `'${s}'`).join(', ')}]::name[]`;
  const owner = DATABASE_OWNER_ROLE;
  return `DO $$ DECLARE r record; BEGIN
    FOR r IN SELECT nspname FROM pg_namespace
              WHERE nspname = ANY(${schemas}) AND nspowner <> '${owner}'::regrole LOOP
      EXECUTE format('ALTER SCHEMA %I OWNER TO ${owner}', r.nspname);
    END LOOP;
    FOR r IN SELECT c.oid::regclass AS rel, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = ANY(${schemas}) AND c.relkind IN ('r', 'p', 'v', 'm')
                AND c.relowner <> '${owner}'::regrole LOOP
      EXECUTE format('ALTER %s %s OWNER TO ${owner}',
        CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, r.rel);
    END LOOP;
    FOR r IN SELECT c.oid::regclass AS rel FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = ANY(${schemas}) AND c.relkind = 'S' AND c.relowner <> '${owner}'::regrole
                AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')) LOOP
      EXECUTE format('ALTER SEQUENCE %s OWNER TO ${owner}', r.rel);
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure AS fn FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = ANY(${schemas}) AND p.proowner <> '${owner}'::regrole LOOP
      EXECUTE format('ALTER FUNCTION %s OWNER TO ${owner}', r.fn);
    END LOOP;
  END $$`;
}

export interface DatabaseRolePasswords {
  owner?: string;
  services?: Partial<Record<DeskService, string>>;
}

/**
 * The `db-roles` step, run with an administrator's connection (a superuser locally; in production a DBA
 * runs the same statements, docs/runbook.md), connected to the platform's database: creates the owner and
 * service roles if missing (race-safe across concurrent runs: IF NOT EXISTS, duplicate_object
 * tolerated, attributes altered only when wrong), sets the passwords given, lets the owner create schemas in this database and hands it any
 * desk schema an older install created as another user.
 * Idempotent. Passwords are sent as literals inside ALTER ROLE and never logged here.
 */
export async function ensureDatabaseRoles(
  adminUrl: string,
  options: { passwords?: DatabaseRolePasswords } = {},
): Promise<void> {
  const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query('BEGIN');
    const statements = [
      createRoleSql(DATABASE_OWNER_ROLE, true),
      ...Object.values(SERVICE_DATABASE_ROLES).map((role) => createRoleSql(role, true)),
      createRoleSql(AUDIT_READER_ROLE, false),
    ];
    for (const sql of statements) await client.query(sql);
    const passwords: [string, string | undefined][] = [
      [DATABASE_OWNER_ROLE, options.passwords?.owner],
      ...DESK_SERVICES.map((s): [string, string | undefined] => [
        SERVICE_DATABASE_ROLES[s],
        options.passwords?.services?.[s],
      ]),
    ];
    for (const [role, password] of passwords) {
      if (password) await client.query(`ALTER ROLE ${role} PASSWORD ${client.escapeLiteral(password)}`);
    }
    const database = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]!.db;
    await client.query(`GRANT CONNECT, CREATE ON DATABASE ${quoteIdent(database)} TO ${DATABASE_OWNER_ROLE}`);
    await client.query(adoptSchemasSql());
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}
