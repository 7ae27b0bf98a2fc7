import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The desk's setup phase is announced on the credentials channel too (migration KeyChangeNotify), so a
 * gateway may keep it in memory with the credentials and drop it when setup closes (docs/adr/0024).
 */
export class SetupChangeNotify1732408800000 implements MigrationInterface {
  name = 'SetupChangeNotify1732408800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TRIGGER desk_setup_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON gateway.desk_setup
        FOR EACH STATEMENT EXECUTE FUNCTION gateway.notify_credentials_changed()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER desk_setup_changed ON gateway.desk_setup`);
  }
}
