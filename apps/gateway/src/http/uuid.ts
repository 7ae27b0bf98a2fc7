/** A uuid as PostgreSQL prints it (lowercase hex): ids in paths and cursors are checked before any query. */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
