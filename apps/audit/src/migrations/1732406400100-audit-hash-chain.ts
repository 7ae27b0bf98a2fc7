import type { MigrationInterface, QueryRunner } from 'typeorm';
import { GENESIS_HASH, RECORD_COLUMNS_SQL, hashRecord, type ChainedRecord } from '@desk/audit-chain';

/** Login role of the audit service: INSERT and SELECT on the log, nothing more (see the grants below). */
export const AUDIT_WRITER_ROLE = 'desk_audit';
/** Read-only role over the audit tables, for readers such as the gateway (granted to their login role). */
export const AUDIT_READER_ROLE = 'desk_audit_reader';

/** Roles are cluster-wide and several databases (test runs) may create them at once: tolerate a race. */
function createRoleSql(role: string, login: boolean): string {
  return `DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}') THEN
      CREATE ROLE ${role} ${login ? 'LOGIN' : 'NOLOGIN'};
    END IF;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END $$`;
}

/**
 * Makes the audit log a tamper-evident, append-only hash chain:
 * - seq is assigned by the audit service at append (gap-free, under the lock on audit.chain_head), no
 *   longer by a sequence that leaves gaps on rollback; each record gets prev_hash and hash;
 * - audit.chain_head (the last seq and hash) and audit.checkpoints (signed heads);
 * - two walls: the service's role is granted INSERT and SELECT only, and triggers refuse UPDATE, DELETE
 *   and TRUNCATE on the log and the checkpoints to everyone, owner and superuser included.
 * Records already stored (a development database) are numbered 1..n in their order and chained.
 */
export class AuditHashChain1732406400100 implements MigrationInterface {
  name = 'AuditHashChain1732406400100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit.audit_events ALTER COLUMN seq DROP DEFAULT`);
    await q.query(`DROP SEQUENCE IF EXISTS audit.audit_events_seq_seq`);
    await q.query(`ALTER TABLE audit.audit_events ADD COLUMN prev_hash text, ADD COLUMN hash text`);

    const old = (await q.query(
      `SELECT seq::text AS "oldSeq", ${RECORD_COLUMNS_SQL} FROM audit.audit_events e ORDER BY e.seq`,
    )) as (ChainedRecord & { oldSeq: string })[];
    let head = { seq: '0', hash: GENESIS_HASH };
    for (const [i, row] of old.entries()) {
      const seq = String(i + 1);
      const hash = hashRecord(head.hash, { ...row, seq });
      await q.query(`UPDATE audit.audit_events SET seq = $1, prev_hash = $2, hash = $3 WHERE seq = $4`, [
        seq,
        head.hash,
        hash,
        row.oldSeq,
      ]);
      head = { seq, hash };
    }

    await q.query(`
      ALTER TABLE audit.audit_events
        ALTER COLUMN prev_hash SET NOT NULL,
        ALTER COLUMN hash SET NOT NULL,
        ADD CONSTRAINT audit_events_seq_positive CHECK (seq > 0)`);
    await q.query(`CREATE INDEX audit_events_actor_idx ON audit.audit_events (actor_id, seq)`);
    await q.query(`CREATE INDEX audit_events_occurred_idx ON audit.audit_events (occurred_at)`);

    await q.query(`
      CREATE TABLE audit.chain_head (
        id   smallint PRIMARY KEY CHECK (id = 1),
        seq  bigint NOT NULL CHECK (seq >= 0),
        hash text NOT NULL
      )`);
    await q.query(`INSERT INTO audit.chain_head (id, seq, hash) VALUES (1, $1, $2)`, [head.seq, head.hash]);

    await q.query(`
      CREATE TABLE audit.checkpoints (
        seq        bigint PRIMARY KEY,
        hash       text NOT NULL,
        signature  text NOT NULL,
        key_id     text NOT NULL,
        public_key text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);

    // Second wall: even the owner (or a superuser) cannot change history without disabling these first.
    await q.query(`
      CREATE FUNCTION audit.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit.% is append-only: % refused', TG_TABLE_NAME, TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE FUNCTION audit.chain_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.id <> OLD.id OR NEW.seq < OLD.seq THEN
          RAISE EXCEPTION 'audit.chain_head only moves forward' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
      END $$`);
    for (const table of ['audit_events', 'checkpoints']) {
      await q.query(`
        CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON audit.${table}
          FOR EACH ROW EXECUTE FUNCTION audit.refuse_change()`);
      await q.query(`
        CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON audit.${table}
          FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change()`);
    }
    await q.query(`
      CREATE TRIGGER chain_head_forward_only BEFORE UPDATE ON audit.chain_head
        FOR EACH ROW EXECUTE FUNCTION audit.chain_head_forward_only()`);
    await q.query(`
      CREATE TRIGGER chain_head_no_delete BEFORE DELETE ON audit.chain_head
        FOR EACH ROW EXECUTE FUNCTION audit.refuse_change()`);
    await q.query(`
      CREATE TRIGGER chain_head_no_truncate BEFORE TRUNCATE ON audit.chain_head
        FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change()`);

    // First wall: the grants. The service's role may append and read, and move the chain head; its own
    // outbox (job.rejected events) is ordinary working storage.
    await q.query(createRoleSql(AUDIT_WRITER_ROLE, true));
    await q.query(createRoleSql(AUDIT_READER_ROLE, false));
    const logTables = 'audit.audit_events, audit.checkpoints';
    await q.query(`REVOKE ALL ON ${logTables}, audit.chain_head, audit.outbox FROM PUBLIC`);
    await q.query(`REVOKE ALL ON ${logTables}, audit.chain_head, audit.outbox FROM ${AUDIT_WRITER_ROLE}`);
    await q.query(`GRANT USAGE ON SCHEMA audit TO ${AUDIT_WRITER_ROLE}, ${AUDIT_READER_ROLE}`);
    await q.query(`GRANT SELECT, INSERT ON ${logTables} TO ${AUDIT_WRITER_ROLE}`);
    await q.query(`GRANT SELECT, UPDATE ON audit.chain_head TO ${AUDIT_WRITER_ROLE}`);
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON audit.outbox TO ${AUDIT_WRITER_ROLE}`);
    await q.query(`GRANT USAGE ON SEQUENCE audit.outbox_id_seq TO ${AUDIT_WRITER_ROLE}`);
    await q.query(`GRANT SELECT ON ${logTables}, audit.chain_head TO ${AUDIT_READER_ROLE}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE ALL ON ALL TABLES IN SCHEMA audit FROM ${AUDIT_WRITER_ROLE}, ${AUDIT_READER_ROLE}`);
    await q.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA audit FROM ${AUDIT_WRITER_ROLE}`);
    await q.query(`REVOKE USAGE ON SCHEMA audit FROM ${AUDIT_WRITER_ROLE}, ${AUDIT_READER_ROLE}`);
    await q.query(`DROP TABLE audit.checkpoints`);
    await q.query(`DROP TABLE audit.chain_head`);
    await q.query(`DROP TRIGGER audit_events_append_only ON audit.audit_events`);
    await q.query(`DROP TRIGGER audit_events_no_truncate ON audit.audit_events`);
    await q.query(`DROP FUNCTION audit.refuse_change()`);
    await q.query(`DROP FUNCTION audit.chain_head_forward_only()`);
    await q.query(`DROP INDEX audit.audit_events_actor_idx`);
    await q.query(`DROP INDEX audit.audit_events_occurred_idx`);
    await q.query(`
      ALTER TABLE audit.audit_events
        DROP CONSTRAINT audit_events_seq_positive, DROP COLUMN prev_hash, DROP COLUMN hash`);
    await q.query(`CREATE SEQUENCE audit.audit_events_seq_seq OWNED BY audit.audit_events.seq`);
    await q.query(
      `SELECT setval('audit.audit_events_seq_seq', coalesce(max(seq), 0) + 1, false) FROM audit.audit_events`,
    );
    await q.query(
      `ALTER TABLE audit.audit_events ALTER COLUMN seq SET DEFAULT nextval('audit.audit_events_seq_seq')`,
    );
  }
}
