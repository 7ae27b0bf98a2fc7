import { randomUUID } from 'node:crypto';
import { Test, type TestingModule } from '@nestjs/testing';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { generateSigningKey, parsePublicKey, pgQuery, verifyStoredChain } from '@desk/audit-chain';
import { AuditAction, JobName, QueueName, SCHEMA_VERSION, type AuditEvent } from '@desk/contracts';
import { migrate, redisOptions } from '@desk/platform';
import { createDatabase, dropDatabase, testEnv, uniquePrefix } from '@desk/testing';
import { AppModule } from '../src/app.module';
import { loadAuditConfig, type AuditConfig } from '../src/config';
import { AUDIT_SCHEMA } from '../src/schema';

export const SIGNING_KEY = generateSigningKey();
export const TRUSTED_KEYS = [parsePublicKey(SIGNING_KEY.publicKey)];

/**
 * One audit test file's world: its own database (the tests tamper with the log, so no other file may share
 * it), migrated by the audit migrations; its own Redis prefix; a superuser connection (`pg`, the owner).
 */
export class AuditHarness {
  readonly env = testEnv();
  readonly prefix = uniquePrefix(this.env.redisPrefix);
  readonly pg: Client;
  readonly queue: Queue;
  private constructor(readonly db: { name: string; url: string }) {
    this.pg = new Client({ connectionString: db.url });
    this.queue = new Queue(QueueName.Audit, {
      connection: redisOptions(this.env.redisUrl),
      prefix: this.prefix,
    });
  }

  static async create(): Promise<AuditHarness> {
    const db = await createDatabase('audit');
    await migrate(db.url, AUDIT_SCHEMA);
    const harness = new AuditHarness(db);
    await harness.pg.connect();
    return harness;
  }

  config(extra: Record<string, string> = {}): AuditConfig {
    return loadAuditConfig({
      DATABASE_URL: this.db.url,
      REDIS_URL: this.env.redisUrl,
      REDIS_PREFIX: this.prefix,
      LOG_LEVEL: 'silent',
      AUDIT_SIGNING_KEY: SIGNING_KEY.privateKey,
      AUDIT_CHECKPOINT_INTERVAL_MS: String(3_600_000),
      ...extra,
    });
  }

  /** Starts an audit service instance in-process; close it to stop it. */
  async start(extra: Record<string, string> = {}): Promise<TestingModule> {
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.forRoot(this.config(extra))],
    }).compile();
    await moduleRef.init();
    return moduleRef;
  }

  async send(events: AuditEvent[]): Promise<void> {
    await this.queue.addBulk(
      events.map((e) => ({ name: JobName.AuditEvent, data: e, opts: { jobId: e.eventId } })),
    );
  }

  /** Resolves once every given event id is stored; returns how many rows hold them (duplicates would show). */
  async stored(ids: string[]): Promise<number> {
    const r = await this.pg.query<{ n: number; distinct: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS distinct
         FROM audit.audit_events WHERE event_id = ANY($1::uuid[])`,
      [ids],
    );
    return r.rows[0]!.distinct === ids.length ? r.rows[0]!.n : Number.NaN;
  }

  verify(options: { from?: string; to?: string; anchors?: { seq: string; hash: string }[] } = {}) {
    return verifyStoredChain(pgQuery(this.pg), { ...options, trustedKeys: TRUSTED_KEYS });
  }

  async close(): Promise<void> {
    await this.queue.obliterate({ force: true }).catch(() => undefined);
    await this.queue.close();
    await this.pg.end();
    await dropDatabase(this.db.name);
  }
}

export function auditEvent(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    schemaVersion: SCHEMA_VERSION,
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    actor: { type: 'service', id: 'risk' },
    action: AuditAction.OrderAccepted,
    subject: { type: 'order', id: randomUUID() },
    payload: { notional: '1234.5' },
    correlationId: randomUUID(),
    ...overrides,
  };
}

export const events = (n: number): AuditEvent[] => Array.from({ length: n }, () => auditEvent());
