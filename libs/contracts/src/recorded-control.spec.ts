import { describe, expect, it } from '@jest/globals';
import { cancelAllDifferences, controlCommandDifferences } from './recorded-control';

const admin = { type: 'operator' as const, id: 'rhea', keyId: 'kid_00000000000000aa' };

describe('controlCommandDifferences', () => {
  const issued = {
    command: 'limits.set',
    actor: admin,
    reason: 'quiet day',
    limits: { max_order_notional: '4000.50', price_band: '0.01' },
  };

  it('finds none for the same command, limits compared as decimals', () => {
    expect(
      controlCommandDifferences(issued, {
        ...issued,
        limits: { max_order_notional: '4000.5', price_band: '0.010' },
        flatten: false,
      }),
    ).toEqual([]);
  });

  it('names each field that differs', () => {
    expect(
      controlCommandDifferences(
        { ...issued, command: 'kill', limits: undefined },
        { ...issued, command: 'kill', limits: undefined, flatten: true, actor: { ...admin, id: 'mallory' } },
      ),
    ).toEqual(['actor.id: mallory ≠ recorded rhea', 'flatten: true ≠ recorded false']);
    expect(
      controlCommandDifferences(issued, {
        ...issued,
        limits: { max_order_notional: '1', max_leverage: '2' },
        approvalId: 'a1',
      }),
    ).toEqual([
      'approvalId: a1 ≠ recorded (none)',
      'limits.max_order_notional: 1 ≠ recorded 4000.50',
      'limits.price_band: (none) ≠ recorded 0.01',
      'limits.max_leverage: 2 ≠ recorded (none)',
    ]);
  });
});

describe('cancelAllDifferences', () => {
  it('compares actor, reason code and reason exactly', () => {
    const recorded = { actor: admin, reasonCode: 'TRADING_HALTED', reason: 'kill' };
    expect(cancelAllDifferences(recorded, { ...recorded })).toEqual([]);
    expect(cancelAllDifferences(recorded, { ...recorded, reason: 'other' })).toEqual([
      'reason: other ≠ recorded kill',
    ]);
  });
});
