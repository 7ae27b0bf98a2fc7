import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { ConfigModule } from '../config/config.module';
import type { PlatformConfig } from '../config/load-config';
import { HealthModule } from '../health/health.module';
import { MarketModule } from '../market/market.module';
import { OutboxModule } from '../outbox/outbox.module';
import { dataSourceOptions, type ServiceSchema } from '../persistence/data-source-options';
import { QueueModule } from '../queue/queue.module';
import { RedisModule } from '../queue/redis.module';
import { loggerParams } from './logging';

export interface PlatformOptions<C extends PlatformConfig> {
  service: string;
  config: C;
  /** Token under which the app's full config object is injectable. */
  configToken: symbol;
  schema: ServiceSchema;
}

/**
 * Everything a service shares: config, structured logs, PostgreSQL, Redis, BullMQ, the transactional
 * outbox, market prices, health. Every service's first migration creates its outbox table.
 */
@Module({})
export class PlatformModule {
  static forRoot<C extends PlatformConfig>(options: PlatformOptions<C>): DynamicModule {
    const { config } = options;
    return {
      module: PlatformModule,
      imports: [
        ConfigModule.forRoot(options.service, config, options.configToken),
        LoggerModule.forRoot(loggerParams(options.service, config.LOG_LEVEL)),
        TypeOrmModule.forRoot({
          ...dataSourceOptions(config.DATABASE_URL, options.schema),
          autoLoadEntities: false,
        }),
        RedisModule.forRoot(config),
        QueueModule.forRoot(config),
        MarketModule,
        OutboxModule.forRoot(options.schema.schema),
        HealthModule,
      ],
    };
  }
}
