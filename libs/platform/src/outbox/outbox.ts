import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Redis } from 'ioredis';
import type {
  DataSource,
  EntityManager,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
  TransactionStartEvent,
} from 'typeorm';
import { randomUUID } from 'node:crypto';
import { JOB_SCHEMAS, JobName, SCHEMA_VERSION, jobIdOf, type JobData } from '@desk/contracts';
import { DependencyUnavailableError } from '../errors/dependency-failure';
import type { AuditRecord } from '../queue/audit-publisher';
import { JobPublisher } from '../queue/job-publisher';
import { REDIS_CLIENT } from '../queue/redis.module';
import { packBatches } from './job-batches';
import { OUTBOX_RECEIPTS } from './receipts';
import { withoutCorrelationId } from '../bootstrap/correlation';

export const OUTBOX_SCHEMA = Symbol('OUTBOX_SCHEMA');

/** An outbox row as written: job name, job id, payload (JSON). */
type OutboxRow = [string, string, string];
/** A row this process wrote and committed, with its id: what a relay round publishes from memory. */
interface CommittedRow {
  id: bigint;
  name: JobName;
  json: string;
}
/** A row as a relay round publishes it (read from the table, or from memory). */
interface RelayRow {
  id: string;
  job_name: JobName;
  payload: JobData<JobName>;
}

/** Rows published per round trip. */
const BATCH = 200;
/** More rows than this waiting in memory (a round stalled on Redis) and the next round reads the table. */
const MAX_IN_MEMORY = 10 * BATCH;
/**
 * A publish that has not answered in this long is given up for this round (Redis hung or unreachable):
 * the row stays unpublished and is published again later, which adds nothing twice (deterministic job ids).
 */
export const OUTBOX_PUBLISH_TIMEOUT_MS = 5000;
/** How often a relay deletes rows published more than a day ago. */
const PRUNE_EVERY_MS = 60_000;

/**
 * Transactional outbox. A service writes its state change and the jobs that announce it (next-hop jobs,
 * audit events) in ONE database transaction; the relay then publishes them. A crash between commit and
 * publish loses nothing (the relay publishes on restart), and re-publishing is harmless because every job
 * has a deterministic id.
 *
 * The relay never holds a database transaction (or a row lock) while it talks to Redis: it takes a batch
 * of rows (those this process just committed, as it wrote them, or on a sweep every unpublished row in the
 * table), publishes the batch in one round trip per queue (addBulk) within OUTBOX_PUBLISH_TIMEOUT_MS, and
 * marks it published in a separate statement. Two relays on one table (replicas) may publish a row both;
 * BullMQ adds a job id once, so the second add is a no-op. While Redis is not connected the relay does not
 * try at all, and says so in the log (at most every 30 s).
 */
@Injectable()
export class Outbox implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(Outbox.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private lastWarning = 0;
  private lastPrune = 0;

  /**
   * Rows added in each open transaction, written in one statement just before it commits (docs/adr/0024):
   * a transaction that announces five jobs writes its outbox once, not five times. A transaction that rolls
   * back writes none. Keyed by the transaction's query runner (TypeORM opens one per transaction).
   */
  private readonly pending = new WeakMap<QueryRunner, OutboxRow[]>();
  /** The rows each open transaction wrote, with the ids they got (known just before it commits). */
  private readonly written = new WeakMap<QueryRunner, CommittedRow[]>();
  /**
   * Rows this process committed since the relay's last round, as it wrote them (docs/adr/0024, cut 31): a
   * round after a commit publishes these without reading them back from the table. The table stays the
   * record: whatever a round does not publish and mark (a failure, a crash, rows another process wrote) the
   * next sweep reads from there.
   */
  private committedRows: CommittedRow[] = [];
  /**
   * The next round reads every unpublished row from the table (set every 250 ms, at start, and after a
   * failed round): rows another process wrote (a replica, or a crashed predecessor) and rows a failed round
   * left behind.
   */
  private sweep = true;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(JobPublisher) private readonly jobs: JobPublisher,
    @Inject(OUTBOX_SCHEMA) private readonly schema: string,
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
  ) {
    // Only the outermost transaction's commit makes rows committed, and only then are they published from
    // memory. A transaction nested in another (a savepoint) writes the rows added before it first, so its
    // rollback cannot take them; after any rollback, what the process wrote is left to the sweep.
    const subscriber: EntitySubscriberInterface = {
      beforeTransactionStart: (event: TransactionStartEvent) => {
        const runner = event.queryRunner;
        if (depthOf(runner) > 0) return this.writePending(runner);
        this.pending.delete(runner);
        this.written.delete(runner);
        return undefined;
      },
      beforeTransactionCommit: (event: TransactionCommitEvent) =>
        depthOf(event.queryRunner) > 1 ? undefined : this.writePending(event.queryRunner),
      afterTransactionCommit: (event: TransactionCommitEvent) => {
        if (event.queryRunner.isTransactionActive) return;
        const rows = this.written.get(event.queryRunner);
        if (rows === undefined) return;
        this.written.delete(event.queryRunner);
        this.committed(rows);
      },
      afterTransactionRollback: (event: TransactionRollbackEvent) => {
        this.pending.delete(event.queryRunner);
        this.written.delete(event.queryRunner);
      },
    };
    db.subscribers.push(subscriber);
  }

  /**
   * Adds a job inside the caller's transaction: written with the transaction's other outbox rows just before
   * it commits (outside a transaction: at once). The payload is validated now, not at publish time.
   */
  async add<N extends JobName>(tx: EntityManager, name: N, data: JobData<N>): Promise<void> {
    const payload = JOB_SCHEMAS[name].parse(data) as JobData<N>;
    const row: OutboxRow = [name, jobIdOf(name, payload), JSON.stringify(payload)];
    const runner = tx.queryRunner;
    if (!runner?.isTransactionActive) {
      this.committed(await this.insert(tx, [row]));
      return;
    }
    const rows = this.pending.get(runner);
    if (rows) rows.push(row);
    else this.pending.set(runner, [row]);
  }

  private async writePending(runner: QueryRunner): Promise<void> {
    const rows = this.pending.get(runner);
    if (!rows) return;
    this.pending.delete(runner);
    const inserted = await this.insert(runner.manager, rows);
    const before = this.written.get(runner);
    this.written.set(runner, before ? [...before, ...inserted] : inserted);
  }

  /**
   * Writes the rows in the order given; returns each with the id it got. One statement draws the ids from
   * the table's sequence row after row in that order, so the rows' ids ascend as they do.
   */
  private async insert(tx: EntityManager, rows: readonly OutboxRow[]): Promise<CommittedRow[]> {
    const inserted: { id: string }[] = await tx.query(
      `INSERT INTO "${this.schema}".outbox (job_name, job_id, payload)
       SELECT n, i, p FROM unnest($1::text[], $2::text[], $3::jsonb[]) WITH ORDINALITY AS r(n, i, p, k)
        ORDER BY k
       RETURNING id::text`,
      [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
    );
    if (inserted.length !== rows.length) {
      throw new Error(`outbox insert returned ${inserted.length} ids for ${rows.length} rows`);
    }
    const ids = inserted.map((r) => BigInt(r.id)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return rows.map((row, i) => ({ id: ids[i]!, name: row[0] as JobName, json: row[2] }));
  }

  /** The rows are committed: the next round publishes them (a sweep reads them from the table instead). */
  private committed(rows: CommittedRow[]): void {
    for (const row of rows) this.committedRows.push(row);
  }

  /** Adds an audit event inside the caller's transaction (the event exists exactly when the change does). */
  async addAudit(tx: EntityManager, record: AuditRecord): Promise<void> {
    await this.add(tx, JobName.AuditEvent, {
      schemaVersion: SCHEMA_VERSION,
      eventId: record.eventId ?? randomUUID(),
      occurredAt: (record.occurredAt ?? new Date()).toISOString(),
      actor: record.actor,
      action: record.action,
      subject: record.subject,
      payload: record.payload,
      correlationId: record.correlationId,
    });
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.sweep = true;
      void this.flush();
    }, 250);
    this.timer.unref();
  }

  /** Before the database and queues close (their own shutdown hooks), finish the relay in hand. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Publishes pending jobs now (call after a commit for low latency); concurrent calls coalesce. */
  flush(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = withoutCorrelationId(() => this.drain())
      .catch((error: unknown) => {
        // What the round read and did not mark is read again by the next round, whatever started it.
        this.sweep = true;
        // Retried every tick; say so at most every 30 s while the cause (database or Redis down) lasts.
        if (Date.now() - this.lastWarning < 30_000) return;
        this.lastWarning = Date.now();
        this.logger.warn({ err: error }, 'outbox relay failed; retrying every 250 ms');
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          void this.flush();
        }
      });
    return this.running;
  }

  /**
   * One relay round: every unpublished row of the table when sweeping, else the rows this process committed
   * since the last round, from memory.
   */
  private async drain(): Promise<void> {
    // A round that fails reads the table next time (flush), so taking the rows in memory first loses nothing.
    const fresh = this.committedRows;
    this.committedRows = [];
    const sweep = this.sweep || fresh.length > MAX_IN_MEMORY;
    this.sweep = false;
    if (sweep) await this.relayTable();
    else {
      fresh.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      for (let i = 0; i < fresh.length; i += BATCH) {
        const rows = fresh.slice(i, i + BATCH);
        await this.publish(
          rows.map((row) => ({
            id: row.id.toString(),
            job_name: row.name,
            payload: JSON.parse(row.json) as JobData<JobName>,
          })),
        );
      }
    }
    // Published rows are kept a day (the re-drive sweep reads them); pruning them is not urgent.
    if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = Date.now();
      await this.db.query(
        `DELETE FROM "${this.schema}".outbox WHERE published_at < now() - interval '1 day'`,
      );
    }
  }

  /** Every unpublished row, whoever wrote it, BATCH at a time in id order. */
  private async relayTable(): Promise<void> {
    let from = 0n;
    for (;;) {
      const rows: RelayRow[] = await this.db.query(
        `SELECT id, job_name, payload FROM "${this.schema}".outbox
          WHERE published_at IS NULL AND id >= $1 ORDER BY id LIMIT ${BATCH}`,
        [from.toString()],
      );
      if (rows.length) await this.publish(rows);
      if (rows.length < BATCH) return;
      from = BigInt(rows[rows.length - 1]!.id) + 1n;
    }
  }

  /** Publishes the rows and marks them published: not marked unless Redis took them within the deadline. */
  private async publish(rows: readonly RelayRow[]): Promise<void> {
    if (this.redis.status !== 'ready') {
      throw new DependencyUnavailableError('redis', `Redis is ${this.redis.status}; nothing published`);
    }
    // One round trip per queue for the whole batch, audit events and order updates packed into batch jobs
    // (job-batches.ts). The payloads were validated when they were added; if the batch is not in Redis
    // within the deadline, none is marked and all are published again later.
    const jobs = packBatches(rows.map((row) => ({ name: row.job_name, payload: row.payload })));
    await withDeadline(this.jobs.publishValidated(jobs), OUTBOX_PUBLISH_TIMEOUT_MS);
    // Each row packed into a batch job records that job's id: the re-drive sweep asks Redis about it.
    const publishedAs: (string | null)[] = rows.map(() => null);
    for (const job of jobs)
      for (const m of job.members ?? []) publishedAs[m] = jobIdOf(job.name, job.payload);
    // A job no consumer confirms (OUTBOX_RECEIPTS) is done once published; the others wait for the
    // re-drive sweep to see them recorded.
    await this.db.query(
      `UPDATE "${this.schema}".outbox o
          SET published_at = now(), published_as = p.published_as,
              delivered_at = CASE WHEN o.job_name = ANY($3::text[]) THEN NULL ELSE now() END
         FROM unnest($1::bigint[], $2::text[]) AS p(id, published_as)
        WHERE o.id = p.id AND o.published_at IS NULL`,
      [rows.map((row) => row.id), publishedAs, Object.keys(OUTBOX_RECEIPTS)],
    );
  }
}

/**
 * How many transactions deep the runner is: 1 inside an outermost transaction, more inside savepoints. TypeORM
 * keeps the count in a protected field; its events do not carry it.
 */
function depthOf(runner: QueryRunner): number {
  return (runner as unknown as { transactionDepth?: number }).transactionDepth ?? 0;
}

/** The promise's outcome, or a DependencyUnavailableError once `ms` have passed (the call is not undone). */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DependencyUnavailableError('redis', `no answer from Redis within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
