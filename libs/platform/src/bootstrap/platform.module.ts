import { DynamicModule, Module } from '@nestjs/common';
import type { ServiceName } from '@desk/contracts';
import { DiscoveryModule } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { ConfigModule } from '../config/config.module';
import type { PlatformConfig } from '../config/load-config';
import { HealthModule } from '../health/health.module';
import { MarketModule } from '../market/market.module';
import { OutboxModule } from '../outbox/outbox.module';
import { dataSourceOptions, type ServiceSchema } from '../persistence/data-source-options';
import { serviceDatabaseUrl } from '../persistence/database-roles';
import type { DeskService } from '../persistence/database-roles';
import { QueueModule } from '../queue/queue.module';
import { RedisModule } from '../queue/redis.module';
import { QUEUE_METRICS_SERVICE, QueueMetrics } from '../metrics/queue-metrics';
import { Secrets } from '../secrets/secrets';
import { ConfigReport } from './config-report.service';
import { ErrorReportingFlush, initErrorReporting } from '../observability/error-reporting';
import { GracefulShutdown } from './graceful-shutdown.service';

/** The desk's version (the root package's), Sentry's default release. */
const DESK_VERSION = '0.1.0';
import { createServiceLogger, loggerParams, SERVICE_LOGGER } from './logging';

export interface PlatformOptions<C extends PlatformConfig> {
  service: ServiceName;
  config: C;
  /** Token under which the app's full config object is injectable. */
  configToken: symbol;
  schema: ServiceSchema;
  /**
   * The service's own PostgreSQL login role (docs/adr/0009): it connects with `databaseUrl` when set,
   * else as this role to DATABASE_URL's database without a password (DATABASE_URL is the owner's).
   */
  databaseRole: string;
  /** The service's connection, `<SERVICE>_DATABASE_URL`. */
  databaseUrl?: string | undefined;
  /** Its secrets (main.ts: resolveSecrets); default: from the environment only. */
  secrets?: Secrets | undefined;
}

/**
 * Everything a service shares: config, structured logs, PostgreSQL, Redis, BullMQ, the transactional
 * outbox, market prices, health. Every service's first migration creates its outbox table.
 */
@Module({})
export class PlatformModule {
  static forRoot<C extends PlatformConfig>(options: PlatformOptions<C>): DynamicModule {
    const { config } = options;
    const service = options.service as DeskService;
    const secrets =
      options.secrets ??
      Secrets.fromEnvironment(
        service,
        Object.fromEntries(
          Object.entries(config).filter((e): e is [string, string] => typeof e[1] === 'string'),
        ),
      );
    initErrorReporting({
      service: options.service,
      dsn: config.SENTRY_DSN,
      environment: config.SENTRY_ENVIRONMENT ?? config.NODE_ENV,
      release: config.SENTRY_RELEASE ?? `desk@${DESK_VERSION}`,
    });
    // From Vault, the database password is asked for on every new connection (rotation without restart).
    const password = secrets.databasePassword();
    const logger = createServiceLogger(options.service, config.LOG_LEVEL);
    return {
      module: PlatformModule,
      imports: [
        ConfigModule.forRoot(options.service, config, options.configToken, secrets),
        LoggerModule.forRoot(loggerParams(logger)),
        TypeOrmModule.forRoot({
          ...dataSourceOptions(
            serviceDatabaseUrl(config.DATABASE_URL, options.databaseRole, options.databaseUrl),
            options.schema,
            password,
            config.DATABASE_PREPARED_STATEMENTS,
          ),
          autoLoadEntities: false,
        }),
        RedisModule.forRoot(config),
        QueueModule.forRoot(config, options.service),
        MarketModule,
        OutboxModule.forRoot(options.schema.schema),
        HealthModule,
        DiscoveryModule,
      ],
      providers: [
        GracefulShutdown,
        ConfigReport,
        ErrorReportingFlush,
        { provide: QUEUE_METRICS_SERVICE, useValue: options.service },
        QueueMetrics,
        { provide: SERVICE_LOGGER, useValue: logger },
      ],
      exports: [SERVICE_LOGGER],
    };
  }
}
