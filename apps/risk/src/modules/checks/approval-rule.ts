import { toWire, type Money } from '@desk/contracts';
import type { RiskFigures } from './risk-rule';

export interface ApprovalNeed {
  readonly required: boolean;
  readonly reason: string;
  /** The numbers an approver needs (decimal strings). */
  readonly context: Record<string, string | boolean>;
}

/**
 * The two-man rule: an order is critical when its notional exceeds the approval threshold or its venue
 * trades real money. Execution computes the same itself and never trusts a job's claim of approval.
 * An order whose notional is unknown is critical (cannot be shown to be small).
 */
export function approvalNeed(figures: RiskFigures, threshold: Money, liveVenue: boolean): ApprovalNeed {
  const context: Record<string, string | boolean> = {
    threshold: toWire(threshold),
    ...(figures.notional ? { notional: toWire(figures.notional) } : {}),
    ...(figures.referencePrice ? { referencePrice: toWire(figures.referencePrice) } : {}),
    liveVenue,
  };
  if (liveVenue)
    return { required: true, reason: 'the venue is live: two approvers must release it', context };
  if (!figures.notional)
    return { required: true, reason: 'notional unknown: two approvers must release it', context };
  if (figures.notional.lte(threshold)) return { required: false, reason: '', context };
  return {
    required: true,
    reason:
      `notional ${toWire(figures.notional)} exceeds the approval threshold ${toWire(threshold)}: ` +
      'two approvers must release it',
    context,
  };
}
