import { describe, expect, it } from '@jest/globals';
import { money } from '@desk/contracts';
import { approvalNeed } from './approval-rule';

const threshold = money('25000');

describe('two-man rule (critical orders)', () => {
  it('does not hold an order at or under the threshold', () => {
    const need = approvalNeed({ notional: money('25000'), referencePrice: money('50000') }, threshold, false);
    expect(need.required).toBe(false);
  });

  it('holds an order over the threshold and gives approvers the numbers', () => {
    const need = approvalNeed(
      { notional: money('25000.01'), referencePrice: money('50000.02') },
      threshold,
      false,
    );
    expect(need).toEqual({
      required: true,
      reason: 'notional 25000.01 exceeds the approval threshold 25000: two approvers must release it',
      context: { threshold: '25000', notional: '25000.01', referencePrice: '50000.02', liveVenue: false },
    });
  });

  it('holds every order for a live venue, however small', () => {
    expect(approvalNeed({ notional: money('1') }, threshold, true)).toMatchObject({
      required: true,
      reason: 'the venue is live: two approvers must release it',
    });
  });

  it('holds an order whose notional is unknown', () => {
    expect(approvalNeed({}, threshold, false).required).toBe(true);
  });
});
