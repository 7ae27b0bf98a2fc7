import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Worker } from 'bullmq';
import { CheckpointService } from './checkpoint.service';

/**
 * The audit queues' workers, stopped together at shutdown: each stops taking jobs and lets the ones in hand
 * commit while the database connection is still open; then the final head is signed (once, after all of
 * them), so a tail cut while the service is down is detected.
 */
@Injectable()
export class AuditWorkers {
  private readonly logger = new Logger(AuditWorkers.name);
  private readonly workers: Worker[] = [];
  private draining: Promise<void> | undefined;

  constructor(@Inject(CheckpointService) private readonly checkpoints: CheckpointService) {}

  add(worker: Worker): void {
    this.workers.push(worker);
  }

  drain(): Promise<void> {
    this.draining ??= (async () => {
      await Promise.all(this.workers.map((w) => w.close()));
      await this.checkpoints.checkpoint().catch((error: unknown) => {
        this.logger.warn({ err: error }, 'final checkpoint failed');
      });
    })();
    return this.draining;
  }
}
