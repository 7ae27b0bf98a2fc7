import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { queuesOf, type ServiceName } from '@desk/contracts';
import type { PlatformConfig } from '../config/load-config';
import { AuditPublisher } from './audit-publisher';
import { DEFAULT_JOB_OPTIONS } from './job-options';
import { JobPublisher } from './job-publisher';
import { JobValidator } from './job-validator';
import { platformWorkerClass } from './platform-worker';
import { redisOptions } from './redis-connection';
import { retryPolicyOf } from './retry-policy';

/**
 * BullMQ on Redis with the run's key prefix. Registers the queues the service produces to or consumes from
 * (QUEUE_TOPOLOGY): its Redis user may touch no other queue's keys (docs/adr/0016). Which it consumes is
 * decided by its processors. Provides the publisher and validator. Every processor's worker is a platform
 * worker: the retry horizon, the backoff cap and the stalled-job settings apply to all of them
 * (platform-worker.ts).
 */
@Global()
@Module({})
export class QueueModule {
  static forRoot(config: PlatformConfig, service: ServiceName): DynamicModule {
    const queues = queuesOf(service).map((name) => ({ name }));
    BullModule.workerClass = platformWorkerClass(retryPolicyOf(config));
    return {
      module: QueueModule,
      imports: [
        BullModule.forRoot({
          connection: redisOptions(config.REDIS_URL),
          prefix: config.REDIS_PREFIX,
          defaultJobOptions: DEFAULT_JOB_OPTIONS,
        }),
        BullModule.registerQueue(...queues),
      ],
      providers: [JobPublisher, AuditPublisher, JobValidator],
      exports: [BullModule, JobPublisher, AuditPublisher, JobValidator],
    };
  }
}
