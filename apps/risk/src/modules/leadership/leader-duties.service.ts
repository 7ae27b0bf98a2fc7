import { WorkerHost } from '@nestjs/bullmq';
import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { Worker } from 'bullmq';
import { RiskMonitor } from '../monitor/risk-monitor';
import { LimitsService } from '../state/limits.service';
import { RiskLeadership } from './risk-leadership.service';

/**
 * What only the writer instance does (docs/adr/0015), started on election and stopped on deposition:
 * apply its configured limits, consume risk's queues (every BullMQ worker of this app: intents, control,
 * executions) and run the periodic monitor (breakers, stop-losses). A standby does none of it; its outbox
 * relay may run (it only publishes what was committed). Every processor must be declared with
 * `autorun: false`, or risk refuses to boot: a worker that started by itself would consume as a standby.
 */
@Injectable()
export class LeaderDutiesService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(LeaderDutiesService.name);
  private workers: Worker[] = [];
  /** Election and deposition take turns (a deposition during a slow start waits for it, then undoes it). */
  private transition: Promise<void> = Promise.resolve();
  /** The last deposition's pause: the jobs the workers had in hand when it began, until they end. */
  private pausing: Promise<void> = Promise.resolve();

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(RiskLeadership) private readonly leadership: RiskLeadership,
    @Inject(RiskMonitor) private readonly monitor: RiskMonitor,
    @Inject(LimitsService) private readonly limits: LimitsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const hosts = this.discovery
      .getProviders()
      .map((wrapper): unknown => wrapper.instance)
      .filter((instance): instance is WorkerHost => instance instanceof WorkerHost);
    const autorun = hosts.filter((h) => h.worker.opts.autorun !== false);
    if (autorun.length) {
      throw new Error(
        `risk processors must be declared with autorun: false (they run only on the leader): ` +
          autorun.map((h) => h.constructor.name).join(', '),
      );
    }
    this.workers = hosts.map((h) => h.worker);
    await this.leadership.start({
      onElected: () => this.serially(() => this.lead()),
      onDeposed: (reason, graceful) => this.serially(() => this.standBy(reason, graceful)),
    });
  }

  /** Before the queues and the database close: work in hand finishes, then the lock is released. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.leadership.stop();
  }

  private async lead(): Promise<void> {
    // A worker resumed while its last pause is still winding down would stay stopped.
    await this.pausing;
    await this.limits.applyConfigured();
    this.monitor.start();
    for (const worker of this.workers) worker.resume();
    this.logger.log(`leading: consuming ${this.workers.map((w) => w.name).join(', ')}; monitor running`);
  }

  /**
   * `pause()` stops taking jobs at once: it sets the worker paused and cuts its blocking wait for the next
   * job, so none is fetched after this (pause(true) would leave that wait running, and the job it returns
   * would still be processed). It resolves when the jobs in hand end. Stepping down on a lost lock does not
   * wait for them (the fence refuses their writes); a graceful shutdown does, before the lock is released.
   */
  private async standBy(reason: string, graceful: boolean): Promise<void> {
    const paused = Promise.all(this.workers.map((worker) => worker.pause()));
    this.pausing = paused.then(
      () => undefined,
      (error: unknown) => this.logger.error({ err: error }, 'pausing risk workers failed'),
    );
    const stopped = this.monitor.stop(graceful);
    if (graceful) await Promise.all([this.pausing, stopped]);
    this.logger.warn(`standing by (${reason}): risk's queues paused, monitor stopped`);
  }

  private serially(step: () => Promise<void>): Promise<void> {
    const next = this.transition.then(step);
    this.transition = next.catch(() => undefined);
    return next;
  }
}
