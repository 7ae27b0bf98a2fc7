/** DDL for a service's transactional outbox; call from the service's first migration. */
export function createOutboxTableSql(schema: string): string[] {
  return [
    `CREATE TABLE "${schema}".outbox (
       id           bigserial PRIMARY KEY,
       job_name     text NOT NULL,
       payload      jsonb NOT NULL,
       created_at   timestamptz NOT NULL DEFAULT now(),
       published_at timestamptz
     )`,
    `CREATE INDEX outbox_unpublished_idx ON "${schema}".outbox (id) WHERE published_at IS NULL`,
  ];
}
