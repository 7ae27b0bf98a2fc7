import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import { REDIS_CLIENT } from '../queue/redis.module';

@Injectable()
export class RedisHealthIndicator {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    @Inject(HealthIndicatorService) private readonly indicator: HealthIndicatorService,
  ) {}

  async ping(key = 'redis', timeoutMs = 1000) {
    const check = this.indicator.check(key);
    try {
      const answer = await Promise.race([
        this.redis.ping(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref()),
      ]);
      return answer === 'PONG' ? check.up() : check.down({ message: 'unexpected answer' });
    } catch {
      return check.down({ message: 'unreachable' });
    }
  }
}
