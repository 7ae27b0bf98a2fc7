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

/** Rows read per round. */
const BATCH = 200;
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
 * The relay never holds a database transaction (or a row lock) while it talks to Redis: it reads a batch
 * of unpublished rows, publishes the batch in one round trip per queue (addBulk) within
 * OUTBOX_PUBLISH_TIMEOUT_MS, and marks it published in a separate statement. Two relays on one table
 * (replicas) may publish a row both; BullMQ adds a job id once, so the second add is a no-op. While Redis is not connected the relay
 * does not try at all, and says so in the log (at most every 30 s).
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
  /** The smallest row id each open transaction wrote (known once its rows are written, just before commit). */
  private readonly written = new WeakMap<QueryRunner, bigint>();
  /**
   * The smallest id among the rows this process committed since the relay last read the table (null: none).
   * A relay round after a commit reads from there, not from the table's first unpublished row: it never
   * walks the index entries of rows published long ago, and a round with nothing new of ours reads nothing.
   */
  private floor: bigint | null = null;
  /**
   * The next round reads every unpublished row (set every 250 ms, at start, and after a failed round): rows
   * another process wrote (a replica, or a crashed predecessor) and rows a failed round left behind.
   */
  private sweep = true;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(JobPublisher) private readonly jobs: JobPublisher,
    @Inject(OUTBOX_SCHEMA) private readonly schema: string,
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
  ) {
    const subscriber: EntitySubscriberInterface = {
      beforeTransactionCommit: (event: TransactionCommitEvent) => this.writePending(event.queryRunner),
      afterTransactionCommit: (event: TransactionCommitEvent) => {
        const first = this.written.get(event.queryRunner);
        if (first === undefined) return;
        this.written.delete(event.queryRunner);
        this.committed(first);
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
    this.written.set(runner, await this.insert(runner.manager, rows));
  }

  /** Writes the rows; returns the smallest id they got. */
  private async insert(tx: EntityManager, rows: readonly OutboxRow[]): Promise<bigint> {
    const ids: { first: string }[] = await tx.query(
      `WITH w AS (
         INSERT INTO "${this.schema}".outbox (job_name, job_id, payload)
         SELECT n, i, p FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS r(n, i, p)
         RETURNING id)
       SELECT min(id)::text AS first FROM w`,
      [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
    );
    return BigInt(ids[0]!.first);
  }

  /** Rows from `first` on are committed: the next round after a commit reads from there at the latest. */
  private committed(first: bigint): void {
    if (this.floor === null || first < this.floor) this.floor = first;
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
   * One relay round: from the first unpublished row when sweeping, else from the first row this process
   * committed since the last round (nothing to read when it committed none).
   */
  private async drain(): Promise<void> {
    // A round that fails reads everything again next time (flush), so taking the floor first loses nothing.
    let from: bigint | null = this.sweep ? 0n : this.floor;
    this.sweep = false;
    this.floor = null;
    while (from !== null) {
      if (this.redis.status !== 'ready') {
        throw new DependencyUnavailableError('redis', `Redis is ${this.redis.status}; nothing published`);
      }
      const rows: { id: string; job_name: JobName; payload: JobData<JobName> }[] = await this.db.query(
        `SELECT id, job_name, payload FROM "${this.schema}".outbox
          WHERE published_at IS NULL AND id >= $1 ORDER BY id LIMIT ${BATCH}`,
        [from.toString()],
      );
      if (!rows.length) break;
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
      from = rows.length < BATCH ? null : BigInt(rows[rows.length - 1]!.id) + 1n;
    }
    // Published rows are kept a day (the re-drive sweep reads them); pruning them is not urgent.
    if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = Date.now();
      await this.db.query(
        `DELETE FROM "${this.schema}".outbox WHERE published_at < now() - interval '1 day'`,
      );
    }
  }
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
