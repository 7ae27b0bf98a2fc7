import { getQueueToken } from '@nestjs/bullmq';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { QUEUE_TOPOLOGY, type ServiceName } from '@desk/contracts';
import type { Queue } from 'bullmq';
import { deskGauge } from './metrics';

/** The states a queue's jobs are counted in on every scrape. */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'] as const;

export const QUEUE_METRICS_SERVICE = Symbol('QUEUE_METRICS_SERVICE');

/**
 * desk_queue_jobs{queue,state}: each queue's job counts, read from Redis (BullMQ getJobCounts) when
 * Prometheus scrapes, by the service that consumes the queue (one reporter per queue).
 */
@Injectable()
export class QueueMetrics implements OnModuleInit {
  constructor(
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
    @Inject(QUEUE_METRICS_SERVICE) private readonly service: ServiceName,
  ) {}

  onModuleInit(): void {
    const queues: Queue[] = QUEUE_TOPOLOGY.filter((r) => r.consumers.includes(this.service)).map((r) =>
      this.moduleRef.get<Queue>(getQueueToken(r.queue), { strict: false }),
    );
    deskGauge(
      'desk_queue_jobs',
      'Jobs in each queue by state (waiting, active, delayed, failed, …), read at scrape time',
      ['queue', 'state'],
      async (gauge) => {
        const counts = await Promise.all(queues.map((q) => q.getJobCounts(...QUEUE_STATES)));
        queues.forEach((queue, i) => {
          for (const state of QUEUE_STATES) gauge.set({ queue: queue.name, state }, counts[i]?.[state] ?? 0);
        });
      },
    );
  }
}
