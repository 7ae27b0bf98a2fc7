import { Injectable } from '@nestjs/common';
import { Counter, register } from 'prom-client';

function counter(name: string, help: string, labelNames: string[]): Counter {
  return (register.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, labelNames });
}

/** Counters the monitoring issue exposes on /metrics (prom-client's default registry). */
@Injectable()
export class SecurityMetrics {
  readonly authFailures = counter('desk_gateway_auth_failures_total', 'Failed authentications by reason', [
    'reason',
  ]);
  readonly accessDenied = counter('desk_gateway_access_denied_total', 'Requests refused for lack of a role', [
    'role',
  ]);
  readonly throttled = counter('desk_gateway_throttled_requests_total', 'Requests refused by a rate limit', [
    'limit',
  ]);
  readonly auditSuppressed = counter(
    'desk_gateway_security_audit_suppressed_total',
    'Refusals counted but not audited one by one (past the per-source bound; summarized per window)',
    ['action'],
  );
}
