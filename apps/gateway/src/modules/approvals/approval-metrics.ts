import { deskHistogram } from '@desk/platform';

/** Approvals wait minutes, not milliseconds: 1 s to 1 day. */
const DECISION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 86_400];

export const timeToDecision = () =>
  deskHistogram(
    'desk_approval_time_to_decision_seconds',
    'From an approval request to its outcome (executed, denied, expired, refused), by kind',
    ['kind', 'outcome'],
    DECISION_BUCKETS,
  );

/** A request left pending (recorded in the transaction that decided it). */
export function observeApprovalDecision(kind: string, outcome: string, seconds: number): void {
  timeToDecision().observe({ kind, outcome }, Math.max(0, seconds));
}
