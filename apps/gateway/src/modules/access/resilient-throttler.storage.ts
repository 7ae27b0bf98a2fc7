import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ThrottlerStorageService, type ThrottlerStorage } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import { dependencyFailureOf } from '@desk/platform';
import { LeasedThrottlerStorage, leaseId } from './leased-throttler.storage';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * The throttler's counters: in Redis, shared by every gateway instance and taken in leases
 * (LeasedThrottlerStorage); while Redis is down, in this instance's memory. The limits keep holding during
 * an outage (per instance instead of across them), and what needs only PostgreSQL (reading orders,
 * submitting one into the outbox, a kill) keeps working. Counting moves back to Redis as soon as it is
 * connected again. Any other error is not swallowed.
 */
export class ResilientThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly logger = new Logger('Throttler');
  private readonly shared: LeasedThrottlerStorage;
  private readonly local = new ThrottlerStorageService();
  private degraded = false;

  constructor(private readonly redis: Redis) {
    this.shared = new LeasedThrottlerStorage(redis);
  }

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    // Most requests are answered from this instance's lease, without a round trip or an async frame.
    if (this.redis.status === 'ready' && !this.degraded) {
      const record = this.shared.fromLease(leaseId(key, throttlerName), limit);
      if (record) return Promise.resolve(record);
    }
    return this.count(key, ttl, limit, blockDuration, throttlerName);
  }

  private async count(...args: Parameters<ThrottlerStorage['increment']>): Promise<ThrottlerStorageRecord> {
    if (this.redis.status === 'ready') {
      try {
        const record = await this.shared.increment(...args);
        this.setDegraded(false);
        return record;
      } catch (error) {
        if (!dependencyFailureOf(error)) throw error;
      }
    }
    this.setDegraded(true);
    return this.local.increment(...args);
  }

  onApplicationShutdown(): void {
    this.local.onApplicationShutdown();
  }

  private setDegraded(degraded: boolean): void {
    if (degraded === this.degraded) return;
    this.degraded = degraded;
    if (degraded) this.logger.warn('Redis unavailable: rate limits are counted per gateway instance');
    else this.logger.log('Redis back: rate limits are shared again');
  }
}
