import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { QueueName } from '@desk/contracts';
import type { PlatformConfig } from '../config/load-config';
import { AuditPublisher } from './audit-publisher';
import { DEFAULT_JOB_OPTIONS } from './job-options';
import { JobPublisher } from './job-publisher';
import { JobValidator } from './job-validator';
import { redisOptions } from './redis-connection';

/**
 * BullMQ on Redis with the run's key prefix. Registers every contract queue (producing is cheap; which
 * queues a service consumes is decided by its processors) and provides the publisher and validator.
 */
@Global()
@Module({})
export class QueueModule {
  static forRoot(config: PlatformConfig): DynamicModule {
    const queues = Object.values(QueueName).map((name) => ({ name }));
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
