import { deskCounter, deskGauge } from '@desk/platform';
import type { VerificationStatus } from './audit-trail.dto';

const OUTCOMES: readonly Exclude<VerificationStatus, 'running'>[] = ['ok', 'tampered', 'timed_out', 'failed'];

const lastResult = () =>
  deskGauge(
    'desk_audit_verification_last_result',
    'Outcome of the last audit chain verification this gateway ran (1 for its outcome)',
    ['result'],
  );
const lastAt = () =>
  deskGauge('desk_audit_verification_last_timestamp_seconds', 'When the last audit chain verification ended');
const runs = () =>
  deskCounter('desk_audit_verifications_total', 'Audit chain verifications by outcome', ['result']);

/** A verification ended: ok, tampered, timed_out or failed. */
export function recordVerification(result: VerificationStatus): void {
  for (const r of OUTCOMES) {
    lastResult().set({ result: r }, r === result ? 1 : 0);
    runs().inc({ result: r }, r === result ? 1 : 0);
  }
  lastAt().set(Date.now() / 1000);
}
