import {
  Global,
  Inject,
  Injectable,
  Module,
  OnApplicationShutdown,
  type DynamicModule,
} from '@nestjs/common';
import { Redis } from 'ioredis';
import type { PlatformConfig } from '../config/load-config';
import { redisOptions } from './redis-connection';

export const REDIS_CLIENT = Symbol('REDIS_CLIENT');
export const REDIS_PREFIX = Symbol('REDIS_PREFIX');

/**
 * A command on the plain client fails after this long instead of waiting in ioredis's offline queue while
 * Redis is down (a request that needs Redis then answers 503 instead of hanging). The client reconnects
 * by itself; commands work again as soon as Redis is back.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 2000;

@Injectable()
class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: Redis) {}
  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}

/** One plain Redis client per service (BullMQ keeps its own connections). Keys always carry the run's prefix. */
@Global()
@Module({})
export class RedisModule {
  static forRoot(config: PlatformConfig): DynamicModule {
    return {
      module: RedisModule,
      providers: [
        {
          provide: REDIS_CLIENT,
          useFactory: () =>
            new Redis({
              ...redisOptions(config.REDIS_URL),
              maxRetriesPerRequest: 3,
              commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
              lazyConnect: false,
            }),
        },
        { provide: REDIS_PREFIX, useValue: config.REDIS_PREFIX },
        RedisCloser,
      ],
      exports: [REDIS_CLIENT, REDIS_PREFIX],
    };
  }
}
