import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { randomUUID } from 'node:crypto';
import { JOB_SCHEMAS, JobName, SCHEMA_VERSION, type JobData } from '@desk/contracts';
import type { AuditRecord } from '../queue/audit-publisher';
import { JobPublisher } from '../queue/job-publisher';

export const OUTBOX_SCHEMA = Symbol('OUTBOX_SCHEMA');

/**
 * Transactional outbox. A service writes its state change and the jobs that announce it (next-hop jobs,
 * audit events) in ONE database transaction; the relay then publishes them. A crash between commit and
 * publish loses nothing (the relay publishes on restart), and re-publishing is harmless because every job
 * has a deterministic id.
 */
@Injectable()
export class Outbox implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(Outbox.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private lastWarning = 0;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(JobPublisher) private readonly jobs: JobPublisher,
    @Inject(OUTBOX_SCHEMA) private readonly schema: string,
  ) {}

  /** Adds a job inside the caller's transaction. The payload is validated now, not at publish time. */
  async add<N extends JobName>(tx: EntityManager, name: N, data: JobData<N>): Promise<void> {
    const payload = JOB_SCHEMAS[name].parse(data);
    await tx.query(`INSERT INTO "${this.schema}".outbox (job_name, payload) VALUES ($1, $2)`, [
      name,
      JSON.stringify(payload),
    ]);
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
    this.running = this.drain()
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
      const published = await this.db.transaction(async (tx) => {
        const rows: { id: string; job_name: JobName; payload: JobData<JobName> }[] = await tx.query(
          `SELECT id, job_name, payload FROM "${this.schema}".outbox
            WHERE published_at IS NULL ORDER BY id LIMIT 200 FOR UPDATE SKIP LOCKED`,
        );
        for (const row of rows) await this.jobs.publish(row.job_name, row.payload);
        if (rows.length) {
          await tx.query(
            `UPDATE "${this.schema}".outbox SET published_at = now() WHERE id = ANY($1::bigint[])`,
            [rows.map((r) => r.id)],
          );
        }
        return rows.length;
      });
      if (published < 200) break;
    }
    await this.db.query(`DELETE FROM "${this.schema}".outbox WHERE published_at < now() - interval '1 day'`);
  }
}
