import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every change to an API key or an operator is announced on the channel `gateway_credentials_changed`
 * (delivered when the changing transaction commits, to every gateway listening), so a gateway that caches
 * credentials drops them at once (docs/adr/0024). Statement triggers: the writers are few and rare (issue,
 * rotate, revoke, disable, from the API or the console), and a listener forgets everything it holds.
 */
export class KeyChangeNotify1732408700000 implements MigrationInterface {
  name = 'KeyChangeNotify1732408700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION gateway.notify_credentials_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('gateway_credentials_changed', TG_TABLE_NAME);
        RETURN NULL;
      END $$`);
    for (const table of ['api_keys', 'operators']) {
      await q.query(`
        CREATE TRIGGER ${table}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON gateway.${table}
          FOR EACH STATEMENT EXECUTE FUNCTION gateway.notify_credentials_changed()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['api_keys', 'operators']) {
      await q.query(`DROP TRIGGER ${table}_changed ON gateway.${table}`);
    }
    await q.query(`DROP FUNCTION gateway.notify_credentials_changed()`);
  }
}
