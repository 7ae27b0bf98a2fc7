import type { DefaultJobOptions } from 'bullmq';
import { JobName } from '@desk/contracts';
import { CAPPED_BACKOFF } from './retry-policy';

/**
 * As many attempts as BullMQ can count: a state-changing job is never given up by counting. How long it
 * retries is the retry horizon (JOB_RETRY_HORIZON_HOURS), enforced by the workers' backoff strategy
 * (retry-policy.ts), not by a number of attempts.
 */
export const RETRY_UNTIL_HORIZON = 2 ** 31 - 1;

/**
 * The one place job options are set. Infrastructure failures retry with capped exponential backoff
 * (500 ms doubling up to JOB_RETRY_MAX_DELAY_MS) for the retry horizon; business and validation failures
 * are thrown as UnrecoverableError and fail at once. Completed jobs are kept a day (so a duplicate add
 * within that window is a no-op at the queue); the database enforces uniqueness beyond it. Failed jobs are
 * kept a week with their reason.
 */
export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  attempts: RETRY_UNTIL_HORIZON,
  backoff: { type: CAPPED_BACKOFF, delay: 500 },
  removeOnComplete: { age: 24 * 3600, count: 50_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/**
 * Per-job overrides. A webhook notification changes no state (the approval it announces is recorded and
 * listed without it): it gives up after about a minute rather than call a dead endpoint for a day.
 */
export const JOB_OPTION_OVERRIDES: Partial<Record<JobName, Partial<DefaultJobOptions>>> = {
  [JobName.ApprovalNotify]: { attempts: 8, backoff: { type: 'exponential', delay: 500 } },
};
