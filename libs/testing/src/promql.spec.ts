import { describe, expect, it } from '@jest/globals';
import { metricNamesOf } from './promql';

describe('metricNamesOf (which metrics a rule or panel reads)', () => {
  it('finds the metrics, not functions, label names, keywords, strings or durations', () => {
    expect(
      metricNamesOf(
        'histogram_quantile(0.95, sum by (le, queue) (rate(desk_queue_job_duration_seconds_bucket{state="up"}[5m])))',
      ),
    ).toEqual(['desk_queue_job_duration_seconds_bucket']);
    expect(
      metricNamesOf('max by (breaker) (desk_risk_breaker_value / desk_risk_breaker_threshold) >= 0.8'),
    ).toEqual(['desk_risk_breaker_threshold', 'desk_risk_breaker_value']);
    expect(
      metricNamesOf('up{job=~"gateway|risk"} == 0 and on (job) process_start_time_seconds offset 5m'),
    ).toEqual(['process_start_time_seconds', 'up']);
    expect(metricNamesOf('max(desk_audit_verification_last_timestamp_seconds) * 1000')).toEqual([
      'desk_audit_verification_last_timestamp_seconds',
    ]);
  });
});
