import { describe, expect, it } from '@jest/globals';
import { register } from 'prom-client';
import { correlationIdOfJob, currentCorrelationId, withCorrelationId } from '../bootstrap/correlation';
import { measuredProcessor } from '../queue/platform-worker';
import { COLLECT_TIMEOUT_MS, deskGauge } from './metrics';

const sample = async (name: string, labels: Record<string, string> = {}) => {
  const metric = await register.getSingleMetric(name)?.get();
  return metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
};

describe('scrape-time gauges', () => {
  it('a failing read keeps the last value, counts the error, and the scrape still answers', async () => {
    let fail = false;
    deskGauge('test_flaky_gauge', 'test', [], async (gauge) => {
      if (fail) throw new Error('database down');
      gauge.set(7);
    });
    await register.metrics();
    fail = true;
    const text = await register.metrics();
    expect(text).toContain('test_flaky_gauge 7');
    expect(await sample('desk_metrics_collect_errors_total', { metric: 'test_flaky_gauge' })).toBe(1);
  });

  it('a read that hangs is given up after the timeout, not waited for', async () => {
    deskGauge('test_hung_gauge', 'test', [], () => new Promise<void>(() => undefined), 50);
    const started = Date.now();
    await register.metrics();
    expect(Date.now() - started).toBeLessThan(COLLECT_TIMEOUT_MS);
    expect(await sample('desk_metrics_collect_errors_total', { metric: 'test_hung_gauge' })).toBe(1);
  });
});

describe('measured processor', () => {
  it("times each attempt by outcome and runs it under the job's correlation id", async () => {
    const seen: (string | undefined)[] = [];
    const processor = measuredProcessor('test-queue', async (job) => {
      seen.push(currentCorrelationId());
      if (job.name === 'boom') throw new Error('no');
      return 'ok';
    });
    const job = (name: string) =>
      ({ id: '1', name, attemptsMade: 0, data: { correlationId: `c-${name}` } }) as never;
    await expect(processor(job('fine'), 't')).resolves.toBe('ok');
    await expect(processor(job('boom'), 't')).rejects.toThrow('no');
    expect(seen).toEqual(['c-fine', 'c-boom']);
    expect(currentCorrelationId()).toBeUndefined();
    const count = (jobName: string, outcome: string) =>
      sample('desk_queue_job_duration_seconds', {
        queue: 'test-queue',
        job_name: jobName,
        outcome,
        le: '+Inf',
      });
    expect(await count('fine', 'completed')).toBe(1);
    expect(await count('boom', 'failed')).toBe(1);
  });

  it('ignores a correlation id that is not a short string', () => {
    expect(correlationIdOfJob({ correlationId: 42 })).toBeUndefined();
    expect(correlationIdOfJob({ correlationId: 'x'.repeat(201) })).toBeUndefined();
    expect(withCorrelationId(undefined, () => currentCorrelationId())).toBeUndefined();
  });
});
