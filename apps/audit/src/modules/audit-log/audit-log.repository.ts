import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  CHECKPOINT_COLUMNS_SQL,
  hashRecord,
  readChainHead,
  readLatestCheckpoint,
  timestampTextSql,
  verifyStoredChain,
  type ChainHead,
  type ChainedRecord,
  type Checkpoint,
  type QueryFn,
  type StoredVerifyOptions,
  type StoredVerifyResult,
} from '@desk/audit-chain';
import type { PreparedEvent } from './prepared-event';

const INSERT_COLUMNS: readonly (readonly [keyof ChainedRecord, string, string])[] = [
  ['seq', 'seq', 'bigint'],
  ['eventId', 'event_id', 'uuid'],
  ['occurredAt', 'occurred_at', 'timestamptz'],
  ['recordedAt', 'recorded_at', 'timestamptz'],
  ['actorType', 'actor_type', 'text'],
  ['actorId', 'actor_id', 'text'],
  ['actorKeyId', 'actor_key_id', 'text'],
  ['action', 'action', 'text'],
  ['subjectType', 'subject_type', 'text'],
  ['subjectId', 'subject_id', 'text'],
  ['payload', 'payload', 'text'],
  ['correlationId', 'correlation_id', 'text'],
  ['prevHash', 'prev_hash', 'text'],
  ['hash', 'hash', 'text'],
];

const INSERT_SQL = `INSERT INTO audit.audit_events (${INSERT_COLUMNS.map(([, c]) => c).join(', ')})
  SELECT * FROM unnest(${INSERT_COLUMNS.map(([, , type], i) => `$${i + 1}::${type}[]`).join(', ')})`;

/** The audit log's storage: the only code that appends to it. */
@Injectable()
export class AuditLogRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Appends a batch in one transaction and returns, per event, whether it was new. The chain head row is
   * locked first, so appenders (in this process or another instance) take turns: seq is head + 1, 2, …
   * without gaps, chain order is seq order, and an event id already stored (or earlier in the batch) is
   * skipped, which no concurrent appender can race.
   */
  async appendBatch(events: readonly PreparedEvent[]): Promise<boolean[]> {
    return this.db.transaction(async (tx) => {
      const [head] = await tx.query<(ChainHead & { now: string })[]>(
        `SELECT seq::text AS seq, hash, ${timestampTextSql('clock_timestamp()')} AS now
           FROM audit.chain_head WHERE id = 1 FOR UPDATE`,
      );
      if (!head) throw new Error('audit.chain_head has no row: run the audit migrations');
      const stored = await tx.query<{ id: string }[]>(
        `SELECT event_id::text AS id FROM audit.audit_events WHERE event_id = ANY($1::uuid[])`,
        [events.map((e) => e.eventId)],
      );

      const seen = new Set(stored.map((r) => r.id));
      const rows: ChainedRecord[] = [];
      let seq = BigInt(head.seq);
      let prevHash = head.hash;
      const recorded = events.map((event) => {
        if (seen.has(event.eventId)) return false;
        seen.add(event.eventId);
        seq += 1n;
        const content = { ...event, seq: seq.toString(), recordedAt: head.now };
        const hash = hashRecord(prevHash, content);
        rows.push({ ...content, prevHash, hash });
        prevHash = hash;
        return true;
      });
      if (rows.length) {
        await tx.query(
          INSERT_SQL,
          INSERT_COLUMNS.map(([key]) => rows.map((r) => r[key])),
        );
        await tx.query(`UPDATE audit.chain_head SET seq = $1, hash = $2 WHERE id = 1`, [
          seq.toString(),
          prevHash,
        ]);
      }
      return recorded;
    });
  }

  async chainHead(): Promise<ChainHead> {
    const head = await readChainHead((sql, params) => this.db.query(sql, params));
    if (!head) throw new Error('audit.chain_head has no row: run the audit migrations');
    return head;
  }

  async latestCheckpoint(): Promise<Checkpoint | undefined> {
    return readLatestCheckpoint((sql, params) => this.db.query(sql, params));
  }

  /** Stores a checkpoint; undefined when one for that seq exists already (another instance signed it). */
  async insertCheckpoint(cp: Omit<Checkpoint, 'createdAt'>): Promise<Checkpoint | undefined> {
    const [stored] = await this.db.query<Checkpoint[]>(
      `INSERT INTO audit.checkpoints (seq, hash, signature, key_id, public_key) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (seq) DO NOTHING RETURNING ${CHECKPOINT_COLUMNS_SQL}`,
      [cp.seq, cp.hash, cp.signature, cp.keyId, cp.publicKey],
    );
    return stored;
  }

  /** Verifies the stored chain (or a range of it) in one snapshot on one connection. */
  async verify(options: StoredVerifyOptions): Promise<StoredVerifyResult> {
    return onOneConnection(this.db, (query) => verifyStoredChain(query, options));
  }
}

async function onOneConnection<T>(db: DataSource, work: (query: QueryFn) => Promise<T>): Promise<T> {
  const runner = db.createQueryRunner();
  try {
    return await work((sql, params) => runner.query(sql, params) as Promise<unknown[]>);
  } finally {
    await runner.release();
  }
}

/** Runs `work` on one connection to a database given by URL (the CLI, with the services stopped). */
export async function withDatabase<T>(url: string, work: (query: QueryFn) => Promise<T>): Promise<T> {
  const db = new DataSource({ type: 'postgres', url, extra: { max: 1, application_name: 'desk-audit-cli' } });
  await db.initialize();
  try {
    return await onOneConnection(db, work);
  } finally {
    await db.destroy();
  }
}
