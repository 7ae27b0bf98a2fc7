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

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(JobPublisher) private readonly jobs: JobPublisher,
    @Inject(OUTBOX_SCHEMA) private readonly schema: string,
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
  ) {
    const subscriber: EntitySubscriberInterface = {
      beforeTransactionCommit: (event: TransactionCommitEvent) => this.writePending(event.queryRunner),
      afterTransactionRollback: (event: TransactionRollbackEvent) => {
        this.pending.delete(event.queryRunner);
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
    if (!runner?.isTransactionActive) return this.insert(tx, [row]);
    const rows = this.pending.get(runner);
    if (rows) rows.push(row);
    else this.pending.set(runner, [row]);
  }

  private async writePending(runner: QueryRunner): Promise<void> {
    const rows = this.pending.get(runner);
    if (!rows) return;
    this.pending.delete(runner);
    await this.insert(runner.manager, rows);
  }

  private async insert(tx: EntityManager, rows: readonly OutboxRow[]): Promise<void> {
    await tx.query(
      `INSERT INTO "${this.schema}".outbox (job_name, job_id, payload)
       SELECT n, i, p FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS r(n, i, p)`,
      [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
    );
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
    this.timer = setInterval(() => void this.flush(), 250);
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

  private async drain(): Promise<void> {
    for (;;) {
      if (this.redis.status !== 'ready') {
        throw new DependencyUnavailableError('redis', `Redis is ${this.redis.status}; nothing published`);
      }
      const rows: { id: string; job_name: JobName; payload: JobData<JobName> }[] = await this.db.query(
        `SELECT id, job_name, payload FROM "${this.schema}".outbox
          WHERE published_at IS NULL ORDER BY id LIMIT ${BATCH}`,
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
      if (rows.length < BATCH) break;
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
