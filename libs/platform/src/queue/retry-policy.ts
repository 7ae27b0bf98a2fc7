import type { BackoffStrategy, MinimalJob } from 'bullmq';
import { JobName } from '@desk/contracts';
import type { PlatformConfig } from '../config/load-config';

/** The backoff type of every state-changing job (DEFAULT_JOB_OPTIONS); the workers' strategy computes it. */
export const CAPPED_BACKOFF = 'capped-exponential';

/** How long and how often a failing job is retried (JOB_RETRY_HORIZON_HOURS, JOB_RETRY_MAX_DELAY_MS). */
export interface RetryPolicy {
  /** After this long since the job was added, an infrastructure failure is final (the failed set). */
  readonly horizonMs: number;
  /** The longest wait between two attempts. */
  readonly maxDelayMs: number;
}

export function retryPolicyOf(
  config: Pick<PlatformConfig, 'JOB_RETRY_HORIZON_HOURS' | 'JOB_RETRY_MAX_DELAY_MS'>,
): RetryPolicy {
  return {
    horizonMs: Math.round(config.JOB_RETRY_HORIZON_HOURS * 3_600_000),
    maxDelayMs: config.JOB_RETRY_MAX_DELAY_MS,
  };
}

/**
 * Control commands (kill, resume, halts) and the cancel-all they cause are never given up: a kill answered
 * 202 must take effect however long the outage lasts. They still fail at once on UnrecoverableError.
 */
export const NEVER_GIVEN_UP: ReadonlySet<string> = new Set<string>([
  JobName.ControlCommand,
  JobName.OrdersCancelAll,
]);

/**
 * The wait before attempt `attemptsMade + 1` of a job: the job's base delay doubling per attempt, capped
 * at `maxDelayMs`; -1 (BullMQ: fail now) once the horizon has passed since the job was added, except for
 * control commands.
 */
export function retryDelay(
  policy: RetryPolicy,
  attemptsMade: number,
  job: Pick<MinimalJob, 'name' | 'timestamp' | 'opts'>,
  now = Date.now(),
): number {
  if (!NEVER_GIVEN_UP.has(job.name) && now - job.timestamp >= policy.horizonMs) return -1;
  const base =
    job.opts.backoff && typeof job.opts.backoff === 'object' ? (job.opts.backoff.delay ?? 500) : 500;
  const doubled = base * 2 ** Math.min(Math.max(attemptsMade - 1, 0), 32);
  return Math.min(doubled, policy.maxDelayMs);
}

/** The BullMQ `settings.backoffStrategy` every platform worker uses (platform-worker.ts). */
export function cappedBackoff(policy: RetryPolicy): BackoffStrategy {
  return (attemptsMade, _type, _err, job) =>
    job ? retryDelay(policy, attemptsMade, job) : policy.maxDelayMs;
}
