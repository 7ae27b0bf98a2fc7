import { describe, expect, it } from '@jest/globals';
import { JobName } from '@desk/contracts';
import { retryDelay, retryPolicyOf } from './retry-policy';

describe('retryDelay: capped exponential backoff until the retry horizon', () => {
  const policy = retryPolicyOf({ JOB_RETRY_HORIZON_HOURS: 24, JOB_RETRY_MAX_DELAY_MS: 5000 });
  const added = Date.UTC(2026, 0, 1);
  const job = (name: JobName) => ({ name, timestamp: added, opts: { backoff: { type: 'x', delay: 500 } } });

  it('doubles from the base delay and never waits longer than the cap', () => {
    const delays = [1, 2, 3, 4, 5, 6, 100, 10_000].map((n) =>
      retryDelay(policy, n, job(JobName.OrderAccepted), added + 1000),
    );
    expect(delays).toEqual([500, 1000, 2000, 4000, 5000, 5000, 5000, 5000]);
  });

  it('gives up (-1: the failed set) once the horizon has passed since the job was added', () => {
    const order = job(JobName.OrderAccepted);
    expect(retryDelay(policy, 9, order, added + 23 * 3_600_000)).toBe(5000);
    expect(retryDelay(policy, 9, order, added + 24 * 3_600_000)).toBe(-1);
  });

  it('never gives up a control command or a cancel-all', () => {
    const late = added + 30 * 24 * 3_600_000;
    expect(retryDelay(policy, 50_000, job(JobName.ControlCommand), late)).toBe(5000);
    expect(retryDelay(policy, 50_000, job(JobName.OrdersCancelAll), late)).toBe(5000);
  });

  it('reads the horizon in hours, fractions allowed', () => {
    expect(retryPolicyOf({ JOB_RETRY_HORIZON_HOURS: 0.5, JOB_RETRY_MAX_DELAY_MS: 50 })).toEqual({
      horizonMs: 1_800_000,
      maxDelayMs: 50,
    });
  });
});
