import { createHash } from 'node:crypto';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Redis } from 'ioredis';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** A lease takes this share of a limit (at least one request): a limit of 100 is leased 5 at a time. */
const LEASE_PARTS = 20;
/** More tracked clients than this and the expired ones are forgotten. */
const PRUNE_ABOVE = 10_000;

/**
 * KEYS: hits, blocked. ARGV: ttl ms, limit, block ms, lease size. Returns {granted, window ms left, blocked
 * ms left}. Grants at most what is left of the limit in this window; none left blocks the client for the
 * block duration, after which its window starts again (as the one-request-per-call storage it replaced did).
 */
const LEASE = `
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then return {0, redis.call('PTTL', KEYS[1]), blocked} end
local hits = tonumber(redis.call('GET', KEYS[1]) or '0')
local grant = math.min(tonumber(ARGV[4]), tonumber(ARGV[2]) - hits)
if grant <= 0 then
  local block = tonumber(ARGV[3])
  redis.call('SET', KEYS[2], 1, 'PX', block)
  redis.call('PEXPIRE', KEYS[1], block)
  return {0, block, block}
end
redis.call('INCRBY', KEYS[1], grant)
local window = redis.call('PTTL', KEYS[1])
if window <= 0 then
  window = tonumber(ARGV[1])
  redis.call('PEXPIRE', KEYS[1], window)
end
return {grant, window, 0}
`;
const LEASE_SHA = createHash('sha1').update(LEASE).digest('hex');

interface Lease {
  /** When this instance stops using the lease: no later than the shared window ends. */
  windowEnd: number;
  /** Requests this instance may still admit in the window without asking Redis. */
  left: number;
  /** Requests this instance admitted in the window. */
  hits: number;
  blockedUntil: number;
}

/**
 * The throttler's counters in Redis, shared by every gateway instance, taken in leases instead of one
 * round trip per request (docs/adr/0024): an instance reserves a share of a client's limit for the current
 * window with one atomic script and admits that many requests from memory, then asks again. The shared
 * counter only grows by what was granted, so the instances together never admit more than the limit in a
 * window. They may admit a little less: when the limit runs out, the other instances can hold up to
 * (lease − 1) requests each that go unused (none with one instance, or with a limit under 2 × LEASE_PARTS,
 * where a lease is one request). A lease is never used past the window it was granted in: its end is
 * measured from before the script ran.
 */
export class LeasedThrottlerStorage implements ThrottlerStorage {
  private readonly leases = new Map<string, Lease>();
  /** One lease request per client at a time; concurrent requests wait for it. */
  private readonly renewing = new Map<string, Promise<void>>();

  constructor(private readonly redis: Redis) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const id = leaseId(key, throttlerName);
    for (;;) {
      const record = this.fromLease(id, limit);
      if (record) return record;
      let renewal = this.renewing.get(id);
      if (!renewal) {
        renewal = this.renew(id, ttl, limit, blockDuration).finally(() => this.renewing.delete(id));
        this.renewing.set(id, renewal);
      }
      await renewal;
    }
  }

  /**
   * The answer this instance's lease gives without asking Redis (a request admitted from it, or the block
   * it holds), or undefined when the lease must be renewed first. Synchronous: most requests end here.
   */
  fromLease(id: string, limit: number): ThrottlerStorageRecord | undefined {
    const now = Date.now();
    const lease = this.leases.get(id);
    if (!lease) return undefined;
    if (lease.blockedUntil > now) {
      return {
        totalHits: limit + 1,
        timeToExpire: seconds(lease.windowEnd - now),
        isBlocked: true,
        timeToBlockExpire: seconds(lease.blockedUntil - now),
      };
    }
    if (lease.windowEnd > now && lease.left > 0) {
      lease.left -= 1;
      lease.hits += 1;
      return {
        totalHits: lease.hits,
        timeToExpire: seconds(lease.windowEnd - now),
        isBlocked: false,
        timeToBlockExpire: 0,
      };
    }
    return undefined;
  }

  private async renew(id: string, ttl: number, limit: number, blockDuration: number): Promise<void> {
    const asked = Date.now();
    const size = Math.max(1, Math.floor(limit / LEASE_PARTS));
    const args = [2, `${id}:hits`, `${id}:blocked`, ttl, limit, blockDuration, size] as const;
    const answer = await this.redis.evalsha(LEASE_SHA, ...args).catch((error: unknown) => {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT'))
        return this.redis.eval(LEASE, ...args);
      throw error;
    });
    const [granted, windowMs, blockedMs] = parseAnswer(answer);
    const previous = this.leases.get(id);
    const sameWindow = previous !== undefined && previous.windowEnd > asked;
    if (this.leases.size >= PRUNE_ABOVE) this.prune(asked);
    this.leases.set(id, {
      windowEnd: asked + Math.max(0, windowMs),
      left: granted,
      hits: sameWindow ? previous.hits : 0,
      // A client blocked in Redis with no window left still waits out the block here.
      blockedUntil: granted === 0 ? asked + Math.max(1, blockedMs) : 0,
    });
  }

  private prune(now: number): void {
    for (const [id, lease] of this.leases) {
      if (lease.windowEnd <= now && lease.blockedUntil <= now) this.leases.delete(id);
    }
  }
}

/** A client's lease (and its Redis keys): one hash slot per client and throttler. */
export function leaseId(key: string, throttlerName: string): string {
  return `{${key}:${throttlerName}}`;
}

function parseAnswer(answer: unknown): [number, number, number] {
  const [granted, windowMs, blockedMs] = Array.isArray(answer) ? (answer as unknown[]) : [];
  if (typeof granted === 'number' && typeof windowMs === 'number' && typeof blockedMs === 'number') {
    return [granted, windowMs, blockedMs];
  }
  throw new TypeError(`unexpected throttle lease answer ${JSON.stringify(answer)}`);
}

function seconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000));
}
