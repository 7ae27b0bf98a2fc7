import type { MigrationInterface, QueryRunner } from 'typeorm';

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

/**
 * The outbox's delivery columns (the re-drive sweep, docs/runbook.md): each row keeps its job id, and when
 * the consumer was seen to have recorded the job. Rows already there predate the sweep and count as delivered.
 */
export function addOutboxDeliverySql(schema: string): string[] {
  const t = `"${schema}".outbox`;
  return [
    `ALTER TABLE ${t} ADD COLUMN job_id text, ADD COLUMN delivered_at timestamptz`,
    `UPDATE ${t} SET delivered_at = now()`,
    `CREATE INDEX outbox_undelivered_idx ON ${t} (id) WHERE published_at IS NOT NULL AND delivered_at IS NULL`,
  ];
}

export function dropOutboxDeliverySql(schema: string): string[] {
  const t = `"${schema}".outbox`;
  return [
    `DROP INDEX "${schema}".outbox_undelivered_idx`,
    `ALTER TABLE ${t} DROP COLUMN job_id, DROP COLUMN delivered_at`,
  ];
}

/**
 * The batch job a row was published in (docs/adr/0024): the re-drive sweep asks Redis about that job, not
 * the row's own id, so a member of a batch still waiting in its queue is not sent again alone. One migration
 * for every service's outbox, named alike in each (each service keeps its own migrations table).
 */
export function outboxPublishedAsMigration(schema: string): new () => MigrationInterface {
  return class OutboxPublishedAs1732408900000 implements MigrationInterface {
    name = 'OutboxPublishedAs1732408900000';

    async up(q: QueryRunner): Promise<void> {
      await q.query(`ALTER TABLE "${schema}".outbox ADD COLUMN published_as text`);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`ALTER TABLE "${schema}".outbox DROP COLUMN published_as`);
    }
  };
}
