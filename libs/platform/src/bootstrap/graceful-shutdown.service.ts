import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { WorkerHost } from '@nestjs/bullmq';
import type { Worker } from 'bullmq';
import type { PlatformConfig } from '../config/load-config';
import { PLATFORM_CONFIG } from '../config/tokens';
import { Outbox } from '../outbox/outbox';

/**
 * Drains in-flight work before the database and Redis connections close (their hooks run later, in
 * onApplicationShutdown): every BullMQ worker of the app stops taking jobs and finishes the ones it holds,
 * then the outbox relay publishes what those jobs recorded. All of it within SHUTDOWN_TIMEOUT_MS: past it,
 * the workers are closed by force (their jobs' locks lapse and another worker, or this one after a restart,
 * takes them up as stalled; nothing is lost) and shutdown goes on. On a signal, a watchdog ends the process
 * if the rest of the shutdown still hangs a few seconds later.
 */
@Injectable()
export class GracefulShutdown implements BeforeApplicationShutdown {
  private readonly logger = new Logger(GracefulShutdown.name);

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    const timeoutMs = this.config.SHUTDOWN_TIMEOUT_MS;
    if (signal) {
      setTimeout(() => {
        this.logger.error(
          `shutdown still not done ${timeoutMs + WATCHDOG_GRACE_MS} ms after ${signal}; exiting`,
        );
        process.exit(1);
      }, timeoutMs + WATCHDOG_GRACE_MS).unref();
    }
    const workers = this.workers();
    const deadline = Date.now() + timeoutMs;
    const drained = await settlesWithin(Promise.all(workers.map((w) => w.close())), timeoutMs);
    if (!drained) {
      this.logger.warn(
        `workers still busy after SHUTDOWN_TIMEOUT_MS=${timeoutMs}; closing them (their jobs will be retried as stalled)`,
      );
      await settlesWithin(Promise.all(workers.map((w) => w.close(true))), 1000);
    }
    const flushed = await settlesWithin(this.outbox.flush(), Math.max(0, deadline - Date.now()));
    if (!flushed)
      this.logger.warn('outbox relay still busy at shutdown; what it holds is published on restart');
    this.logger.log(`drained ${workers.length} worker(s)${drained ? '' : ' (forced)'}`);
  }

  private workers(): Worker[] {
    const out: Worker[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!(instance instanceof WorkerHost)) continue;
      try {
        out.push(instance.worker as Worker);
      } catch {
        // A processor whose worker was never created (the app did not start it): nothing to drain.
      }
    }
    return out;
  }
}

/** A signal's watchdog waits this much beyond SHUTDOWN_TIMEOUT_MS for the connections to close. */
const WATCHDOG_GRACE_MS = 5000;

/** Whether the promise settled within `ms` (its outcome is not needed: failures were logged where they happened). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = promise.then(
    () => true,
    () => true,
  );
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([settled, late]).finally(() => clearTimeout(timer));
}
