import type { DefaultJobOptions } from 'bullmq';
import { JobName } from '@desk/contracts';

/**
 * The one place job options are set. Infrastructure failures retry with backoff; business and
 * validation failures are thrown as UnrecoverableError and fail at once. Completed jobs are kept a day
 * (so a duplicate add within that window is a no-op at the queue); the database enforces uniqueness
 * beyond it. Failed jobs are kept a week with their reason.
 */
export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 24 * 3600, count: 50_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/**
 * Per-job overrides. Audit events must survive a long database outage rather than end in the failed set:
 * the audit service retries them every 5 s for a day, and records them within 5 s of the database's return.
 */
export const JOB_OPTION_OVERRIDES: Partial<Record<JobName, Partial<DefaultJobOptions>>> = {
  [JobName.AuditEvent]: { attempts: 17_280, backoff: { type: 'fixed', delay: 5000 } },
};
