import { describe, expect, it } from '@jest/globals';
import { ApprovalKind, approvalProblem, type ApprovalRow } from './approvals';

describe('approval check', () => {
  const row: ApprovalRow = {
    id: 'a1',
    kind: 'order',
    subjectId: 'i1',
    actionHash: 'h1',
    status: 'executed',
    requiredApprovals: 2,
    validApprovals: 2,
  };
  const expected = { approvalId: 'a1', kind: ApprovalKind.Order, subjectId: 'i1', actionHash: 'h1' };

  it('releases exactly the approved order', () => {
    expect(approvalProblem(row, expected)).toBeUndefined();
  });

  it.each([
    [
      'no approval id',
      undefined,
      { ...expected, approvalId: undefined },
      'critical order without an approval',
    ],
    ['no such approval', undefined, expected, 'approval a1 does not exist'],
    [
      'another kind',
      { ...row, kind: 'trading.resume' },
      expected,
      'approval a1 is for trading.resume, not an order',
    ],
    ['another order', { ...row, subjectId: 'i2' }, expected, 'approval a1 is for another order (i2)'],
    ['not executed', { ...row, status: 'denied' }, expected, 'approval a1 is denied, not executed'],
    [
      'other parameters',
      { ...row, actionHash: 'h2' },
      expected,
      'approval a1 was given for different order parameters',
    ],
    [
      'too few valid approvals',
      { ...row, validApprovals: 1 },
      expected,
      'approval a1 has 1 valid approvals of 2 required',
    ],
  ])('refuses %s', (_label, r, e, problem) => {
    expect(approvalProblem(r, e)).toBe(problem);
  });
});

describe('approval check for other actions', () => {
  const row: ApprovalRow = {
    id: 'a2',
    kind: 'trading.resume',
    subjectId: 'resume-1',
    actionHash: 'h1',
    status: 'executed',
    requiredApprovals: 2,
    validApprovals: 2,
  };
  const expected = { approvalId: 'a2', kind: ApprovalKind.TradingResume, actionHash: 'h1' };

  it('releases the approved action, whatever its subject id', () => {
    expect(approvalProblem(row, expected)).toBeUndefined();
  });

  it.each([
    ['no approval id', row, { ...expected, approvalId: undefined }, 'trading.resume without an approval'],
    [
      'an order approval',
      { ...row, kind: 'order' },
      expected,
      'approval a2 is for order, not trading.resume',
    ],
    [
      'another action',
      { ...row, actionHash: 'h2' },
      expected,
      'approval a2 was given for a different action',
    ],
    ['expired', { ...row, status: 'expired' }, expected, 'approval a2 is expired, not executed'],
  ])('refuses %s', (_label, r, e, problem) => {
    expect(approvalProblem(r, e)).toBe(problem);
  });
});
