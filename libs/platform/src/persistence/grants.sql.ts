/**
 * DDL for least privilege (docs/adr/0009-least-privilege.md), run by a service's migrations as the owner
 * role. The roles themselves exist before any migration (the db-roles step, ensureDatabaseRoles).
 */

/**
 * The service's role may use its own schema's tables (SELECT, INSERT, UPDATE, DELETE) and sequences, now
 * and for every table a later migration creates (default privileges of the owner); never the migrations
 * table, never DDL (it owns nothing), and PUBLIC gets nothing.
 */
export function ownSchemaGrantsSql(schema: string, role: string): string[] {
  const s = `"${schema}"`;
  return [
    `REVOKE ALL ON ALL TABLES IN SCHEMA ${s} FROM PUBLIC`,
    `GRANT USAGE ON SCHEMA ${s} TO ${role}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${role}`,
    `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${role}`,
    `REVOKE ALL ON ${s}.migrations FROM ${role}`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${role}`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT USAGE, SELECT ON SEQUENCES TO ${role}`,
  ];
}

/** Reverses ownSchemaGrantsSql (a down migration). */
export function revokeOwnSchemaGrantsSql(schema: string, role: string): string[] {
  const s = `"${schema}"`;
  return [
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} REVOKE ALL ON TABLES FROM ${role}`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} REVOKE ALL ON SEQUENCES FROM ${role}`,
    `REVOKE ALL ON ALL TABLES IN SCHEMA ${s} FROM ${role}`,
    `REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${s} FROM ${role}`,
    `REVOKE USAGE ON SCHEMA ${s} FROM ${role}`,
  ];
}

/**
 * A declared read view `<schema>.<view>` over `query`, readable (SELECT only) by the roles of the services
 * that read it. The view is part of the owner's contract: a migration that changes the table changes the
 * view in the same commit. The readers get USAGE on the schema, which lets them name objects there but
 * read none without a grant.
 */
export function readViewSql(
  schema: string,
  view: string,
  query: string,
  readers: readonly string[],
): string[] {
  return [`CREATE VIEW "${schema}"."${view}" AS ${query}`, ...viewReadersSql(schema, view, readers)];
}

/** Makes an existing view of the owner's readable (SELECT only) by these roles, and by nobody else. */
export function viewReadersSql(schema: string, view: string, readers: readonly string[]): string[] {
  const name = `"${schema}"."${view}"`;
  return [
    `REVOKE ALL ON ${name} FROM PUBLIC`,
    ...readers.flatMap((role) => [
      `GRANT USAGE ON SCHEMA "${schema}" TO ${role}`,
      `GRANT SELECT ON ${name} TO ${role}`,
    ]),
  ];
}
