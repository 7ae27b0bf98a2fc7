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
    await this.limits.applyConfigured();
    this.monitor.start();
    for (const worker of this.workers) worker.resume();
    this.logger.log(`leading: consuming ${this.workers.map((w) => w.name).join(', ')}; monitor running`);
  }

  private async standBy(reason: string, graceful: boolean): Promise<void> {
    await Promise.all([
      ...this.workers.map((worker) => worker.pause(!graceful)),
      this.monitor.stop(graceful),
    ]);
    this.logger.warn(`standing by (${reason}): risk's queues paused, monitor stopped`);
  }

  private serially(step: () => Promise<void>): Promise<void> {
    const next = this.transition.then(step);
    this.transition = next.catch(() => undefined);
    return next;
  }
}
