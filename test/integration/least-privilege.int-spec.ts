import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from 'pg';
import { JobName, QUEUE_TOPOLOGY } from '@desk/contracts';
import {
  DATABASE_OWNER_ROLE,
  DESK_SCHEMAS,
  DESK_SERVICES,
  NO_RECEIPT,
  OUTBOX_RECEIPTS,
  SERVICE_DATABASE_ROLES,
  roleDatabaseUrl,
  type DeskService,
} from '@desk/platform';
import { createMigratedDatabase, dropDatabase } from '@desk/testing';

/**
 * docs/adr/0009-least-privilege.md, as the attack: someone who holds one service's database credentials
 * (a compromised process, a leaked URL) tries to reach beyond that service. Each case connects as the
 * service's own role, the way the service does, to a database the migrations set up as the owner role.
 */
describe('each service logs in as its own role and can do only its own work', () => {
  let db: { name: string; url: string };
  const clients = {} as Record<DeskService, Client>;

  beforeAll(async () => {
    db = await createMigratedDatabase('privileges');
    for (const [service, role] of Object.entries(SERVICE_DATABASE_ROLES)) {
      const client = new Client({ connectionString: roleDatabaseUrl(db.url, role) });
      await client.connect();
      clients[service as DeskService] = client;
    }
  });

  afterAll(async () => {
    await Promise.all(Object.values(clients).map((c) => c.end()));
    if (db) await dropDatabase(db.name);
  });

  /** What PostgreSQL answers: 'ok', or the SQLSTATE of the refusal (42501: insufficient privilege). */
  async function attempt(service: DeskService, sql: string): Promise<string> {
    const client = clients[service];
    await client.query('BEGIN');
    try {
      await client.query(sql);
      return 'ok';
    } catch (error) {
      return (error as { code?: string }).code ?? 'error';
    } finally {
      await client.query('ROLLBACK'); // nothing an allowed case does is kept
    }
  }

  it('no service role is a superuser or may create roles or databases, and none owns anything', async () => {
    const superuser = new Client({ connectionString: db.url });
    await superuser.connect();
    try {
      const roles = await superuser.query<{ rolname: string; powers: boolean }>(
        `SELECT rolname, (rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls) AS powers
           FROM pg_roles WHERE rolname = ANY($1) ORDER BY rolname`,
        [[DATABASE_OWNER_ROLE, ...Object.values(SERVICE_DATABASE_ROLES)]],
      );
      expect(roles.rows.every((r) => !r.powers)).toBe(true);
      expect(roles.rows).toHaveLength(6);
      const owners = await superuser.query<{ owner: string }>(
        `SELECT DISTINCT pg_get_userbyid(c.relowner) AS owner FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1)
         UNION SELECT DISTINCT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = ANY($1)`,
        [DESK_SCHEMAS],
      );
      expect(owners.rows).toEqual([{ owner: DATABASE_OWNER_ROLE }]);
    } finally {
      await superuser.end();
    }
  });

  const refused: [DeskService, string, string][] = [
    // Writing another service's schema.
    ['gateway', 'lift the kill switch behind risk', `UPDATE risk.trading_state SET state = 'ACTIVE'`],
    ['gateway', 'through the declared view', `UPDATE risk.trading_state_v SET state = 'ACTIVE'`],
    ['gateway', 'raise a limit', `UPDATE risk.limits SET value = value * 100`],
    ['execution', 'accept its own order', `UPDATE risk.intents SET status = 'ACCEPTED'`],
    ['agent-analysis', 'rewrite a position', `UPDATE execution.positions SET quantity = 0`],
    ['risk', 'approve a held order', `UPDATE gateway.approval_requests SET status = 'executed'`],
    ['risk', 'erase the audit log', `DELETE FROM audit.audit_events`],
    [
      'gateway',
      'append a forged audit record',
      `INSERT INTO audit.checkpoints (seq, hash, signature, key_id, public_key) VALUES (1, 'x', 'x', 'x', 'x')`,
    ],
    // Changing the schema, or the walls around it.
    [
      'audit',
      'switch off the append-only trigger',
      `ALTER TABLE audit.audit_events DISABLE TRIGGER audit_events_append_only`,
    ],
    ['audit', 'rewrite history', `UPDATE audit.audit_events SET action = 'nothing.happened'`],
    ['risk', 'alter its own table', `ALTER TABLE risk.limits ADD COLUMN backdoor text`],
    ['risk', 'drop its own table', `DROP TABLE risk.control_commands`],
    ['execution', 'create a table in its own schema', `CREATE TABLE execution.stash (x text)`],
    ['gateway', 'create a schema', `CREATE SCHEMA stash`],
    ['gateway', 'become the owner', `SET ROLE ${DATABASE_OWNER_ROLE}`],
    ['risk', 'replay a migration', `DELETE FROM risk.migrations`],
    // Reading what is not a declared view.
    ['risk', "read the gateway's key digests", `SELECT * FROM gateway.api_keys`],
    ['execution', 'read the operators', `SELECT * FROM gateway.operators`],
    [
      'execution',
      'read the intents table (only the trading state and venues views are its)',
      `SELECT * FROM risk.intents_v`,
    ],
    ['gateway', 'read the table behind a declared view', `SELECT * FROM risk.trading_state`],
    ['gateway', "read risk's control commands", `SELECT * FROM risk.control_commands`],
    ['gateway', "read execution's orders table", `SELECT * FROM execution.orders`],
    ['agent-analysis', 'read anything of risk', `SELECT * FROM risk.trading_state_v`],
    ['audit', "read the gateway's approvals", `SELECT * FROM gateway.approval_validity`],
  ];

  it.each(refused)('%s may not %s', async (service, _what, sql) => {
    expect({ sql, result: await attempt(service, sql) }).toEqual({ sql, result: '42501' });
  });

  const allowed: [DeskService, string, string][] = [
    ['risk', 'move its trading state', `UPDATE risk.trading_state SET reason = reason`],
    ['risk', 'check an approval in the declared view', `SELECT * FROM gateway.approval_validity`],
    ['execution', 'write its orders', `DELETE FROM execution.orders`],
    ['execution', 'read the trading state', `SELECT state FROM risk.trading_state_v`],
    ['execution', 'read the venues', `SELECT live FROM risk.venues_v`],
    ['execution', 'check an approval', `SELECT * FROM gateway.approval_validity`],
    ['gateway', 'write its submissions', `DELETE FROM gateway.submissions`],
    ['gateway', 'read the intents', `SELECT * FROM risk.intents_v JOIN risk.intent_events_v ON true`],
    [
      'gateway',
      'read limits, state, venues',
      `SELECT * FROM risk.limits_v, risk.trading_state_v, risk.venues_v`,
    ],
    [
      'gateway',
      'read orders, events, fills',
      `SELECT * FROM execution.orders_v, execution.order_events_v, execution.fills_v`,
    ],
    ['gateway', 'read positions', `SELECT * FROM execution.positions_v`],
    ['gateway', 'read signals and decisions', `SELECT * FROM agents.signals_v, agents.decisions_v`],
    [
      'gateway',
      'read and verify the audit log',
      `SELECT * FROM audit.audit_events, audit.checkpoints, audit.chain_head`,
    ],
    ['agent-analysis', 'write its signals', `DELETE FROM agents.signals`],
    ['audit', 'append to the log', `SELECT hash FROM audit.chain_head FOR UPDATE`],
  ];

  it.each(allowed)('%s may %s', async (service, _what, sql) => {
    expect({ sql, result: await attempt(service, sql) }).toEqual({ sql, result: 'ok' });
  });

  // The re-drive sweep (libs/platform/src/outbox/receipts.ts): each producer reads its consumers' receipts.
  const schemaOf = (service: DeskService) => DESK_SCHEMAS[DESK_SERVICES.indexOf(service)];
  const receiptChecks = Object.entries(OUTBOX_RECEIPTS).flatMap(([job, receipt]) =>
    QUEUE_TOPOLOGY.filter((r) => !r.retired && r.jobs.includes(job as JobName))
      .flatMap((r) => r.producers)
      .map((producer) => [producer as DeskService, job, receipt] as const),
  );

  it('every job on the outbox has a receipt, or a reason it needs none', () => {
    for (const job of Object.values(JobName)) {
      expect({ job, covered: job in OUTBOX_RECEIPTS !== job in NO_RECEIPT }).toEqual({ job, covered: true });
    }
    // Every producer of every job with a receipt is checked below.
    expect(new Set(receiptChecks.map(([, job]) => job))).toEqual(new Set(Object.keys(OUTBOX_RECEIPTS)));
  });

  it.each(receiptChecks)(
    '%s may read the receipts of its %s jobs and mark them delivered',
    async (service, job, receipt) => {
      const sql = `UPDATE "${schemaOf(service)}".outbox o SET delivered_at = now()
                  WHERE o.published_at IS NOT NULL AND o.delivered_at IS NULL AND o.job_name = '${job}'
                    AND EXISTS (${receipt})`;
      expect({ sql, result: await attempt(service, sql) }).toEqual({ sql, result: 'ok' });
    },
  );
});
