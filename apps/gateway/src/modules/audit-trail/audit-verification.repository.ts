import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { parseAnchor, type ChainHead } from '@desk/audit-chain';
import { REDIS_CLIENT, REDIS_PREFIX } from '@desk/platform';
import type { VerificationRun } from './audit-trail.dto';

/** How long a finished run can be read. */
const KEEP_SECONDS = 7 * 86_400;

/** Deletes the lock only if it is still ours (it may have expired and been taken by another run). */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Keeps the latest signed head a verification saw, unless a later one is already kept. */
const WITNESS_SCRIPT = `
local kept = redis.call('GET', KEYS[1])
if kept then
  local seq = string.match(kept, '^(%d+):')
  if seq and (string.len(seq) > string.len(ARGV[1]) or (string.len(seq) == string.len(ARGV[1]) and seq >= ARGV[1])) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2])
return 1`;

/**
 * Verification runs in Redis, shared by every gateway instance: the run records, the one-run-at-a-time
 * lock of the desk, and the witness (the latest signed checkpoint a run has verified, held outside
 * PostgreSQL so that a later run still expects it if the checkpoint rows are deleted).
 */
@Injectable()
export class AuditVerificationRepository {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    @Inject(REDIS_PREFIX) private readonly prefix: string,
  ) {}

  async save(run: VerificationRun): Promise<void> {
    await this.redis.set(this.runKey(run.id), JSON.stringify(run), 'EX', KEEP_SECONDS);
  }

  async find(id: string): Promise<VerificationRun | undefined> {
    const text = await this.redis.get(this.runKey(id));
    return text ? (JSON.parse(text) as VerificationRun) : undefined;
  }

  async remove(id: string): Promise<void> {
    await this.redis.del(this.runKey(id));
  }

  /** Takes the desk's verification lock for `id`; false when another run holds it. */
  async lock(id: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.lockKey(), id, 'PX', ttlMs, 'NX')) === 'OK';
  }

  /** The id of the run holding the lock, if any. */
  async running(): Promise<string | undefined> {
    return (await this.redis.get(this.lockKey())) ?? undefined;
  }

  async unlock(id: string): Promise<void> {
    await this.redis.eval(RELEASE_SCRIPT, 1, this.lockKey(), id);
  }

  async witness(): Promise<ChainHead | undefined> {
    const text = await this.redis.get(this.witnessKey());
    return text ? parseAnchor(text) : undefined;
  }

  async keepWitness(head: ChainHead): Promise<void> {
    await this.redis.eval(WITNESS_SCRIPT, 1, this.witnessKey(), head.seq, head.hash);
  }

  private runKey(id: string): string {
    return `${this.prefix}:audit-verify:run:${id}`;
  }

  private lockKey(): string {
    return `${this.prefix}:audit-verify:lock`;
  }

  private witnessKey(): string {
    return `${this.prefix}:audit-verify:witness`;
  }
}
