import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import { REDIS_CLIENT } from '../queue/redis.module';

/** The only eviction policy under which Redis never drops a queued job to make room. */
export const REQUIRED_MAXMEMORY_POLICY = 'noeviction';

/**
 * Redis is ready for the desk when it answers and keeps every key: a queue on a Redis that evicts keys
 * under memory pressure (any `maxmemory-policy` but `noeviction`) can silently lose accepted jobs, so
 * such a Redis is reported down, with the policy it has. The policy is read with INFO (the services'
 * ACL users may not run CONFIG).
 */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    @Inject(HealthIndicatorService) private readonly indicator: HealthIndicatorService,
  ) {}

  async ping(key = 'redis', timeoutMs = 1000) {
    const check = this.indicator.check(key);
    if (this.redis.status !== 'ready') {
      return check.down({ message: `unreachable (connection ${this.redis.status})` });
    }
    let info: string;
    try {
      info = await Promise.race([
        this.redis.info('memory'),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref()),
      ]);
    } catch (error) {
      return check.down({ message: `unreachable (${error instanceof Error ? error.message : 'no answer'})` });
    }
    const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
    if (policy !== REQUIRED_MAXMEMORY_POLICY) {
      return check.down({
        message: `maxmemory-policy is ${policy ?? 'unknown'}; queues need ${REQUIRED_MAXMEMORY_POLICY} (Redis may evict queued jobs)`,
        maxmemoryPolicy: policy ?? 'unknown',
      });
    }
    return check.up({ maxmemoryPolicy: policy });
  }
}
