import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { JobData, JobName } from '@desk/contracts';
import type { PlatformConfig } from '../config/load-config';
import { PLATFORM_CONFIG } from '../config/tokens';
import { JobPublisher } from '../queue/job-publisher';
import { RedriveSweep } from '../queue/redrive-sweep';
import { OUTBOX_SCHEMA } from './outbox';
import { OUTBOX_RECEIPTS, REDRIVE_FIRST } from './receipts';

/** Rows sent again per pass, at most. */
const BATCH = 200;

/**
 * Nothing accepted is lost on the way on (docs/runbook.md): every REDRIVE_INTERVAL_MS each service looks at
 * the jobs its outbox published. Those its consumer has recorded (OUTBOX_RECEIPTS) are marked delivered;
 * those still unrecorded REDRIVE_AFTER_MS after publishing are sent again, exactly as first written and under
 * the same job id: re-added if Redis lost the job, retried if it ended in the failed set, left alone while it
 * waits or runs. Consumers record each job once, so sending again never does anything twice. A kill and the
 * cancel-all it causes go first.
 *
 * Every instance of a service may sweep: two passes at once add a job id once.
 */
@Injectable()
export class OutboxRedrive implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRedrive.name);
  private readonly sweep: RedriveSweep;
  private readonly table: string;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(JobPublisher) private readonly jobs: JobPublisher,
    @Inject(OUTBOX_SCHEMA) schema: string,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {
    this.table = `"${schema}".outbox`;
    this.sweep = new RedriveSweep(`OutboxRedrive(${schema})`, config.REDRIVE_INTERVAL_MS, () =>
      this.redrive(),
    );
  }

  onApplicationBootstrap(): void {
    this.sweep.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sweep.stop();
  }

  /** One pass: how many jobs were sent again (re-added or retried). */
  async redrive(): Promise<number> {
    await this.markDelivered();
    const rows: {
      id: string;
      job_name: JobName;
      payload: JobData<JobName>;
      published_as: string | null;
    }[] = await this.db.query(
      `SELECT id, job_name, payload, published_as FROM ${this.table}
        WHERE published_at IS NOT NULL AND delivered_at IS NULL
          AND published_at < now() - make_interval(secs => $1 / 1000.0)
          AND created_at > now() - interval '23 hours'
        ORDER BY job_name = ANY($2::text[]) DESC, id
        LIMIT ${BATCH}`,
      [this.config.REDRIVE_AFTER_MS, REDRIVE_FIRST],
    );
    let sent = 0;
    for (const row of rows) {
      try {
        const sentAs = row.published_as ?? undefined;
        if ((await this.jobs.redrive(row.job_name, row.payload, sentAs)) !== 'present') sent += 1;
      } catch (error) {
        // A row that no longer makes a valid job must not stall the sweep for every later one.
        if (error instanceof Error && error.name === 'ZodError') {
          this.logger.error({ outboxId: row.id, job: row.job_name }, 'outbox row is not a valid job');
          continue;
        }
        throw error;
      }
    }
    return sent;
  }

  /**
   * Marks the published jobs their consumers have recorded, one statement per job name waiting. A consumer
   * whose receipt cannot be read (not migrated yet, or its database role lacks the grant) holds back only
   * its own jobs, and says so.
   */
  private async markDelivered(): Promise<void> {
    const waiting: { job_name: JobName }[] = await this.db.query(
      `SELECT DISTINCT job_name FROM ${this.table} WHERE published_at IS NOT NULL AND delivered_at IS NULL`,
    );
    for (const { job_name: name } of waiting) {
      const receipt = OUTBOX_RECEIPTS[name];
      if (!receipt) continue;
      try {
        await this.db.query(
          `UPDATE ${this.table} o SET delivered_at = now()
            WHERE o.published_at IS NOT NULL AND o.delivered_at IS NULL AND o.job_name = $1
              AND EXISTS (${receipt})`,
          [name],
        );
      } catch (error) {
        this.logger.warn(
          { err: error, job: name },
          "cannot read the consumer's receipts; its jobs are checked against the queue alone",
        );
      }
    }
  }
}
