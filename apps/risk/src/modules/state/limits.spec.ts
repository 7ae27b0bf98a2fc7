import { describe, expect, it } from '@jest/globals';
import { money, toWire } from '@desk/contracts';
import { loadRiskConfig } from '../../config';
import { LIMIT_NAMES, changesPayload, checkLimitChange, limitsFromConfig, raises } from './limits';

const current = limitsFromConfig(loadRiskConfig({}));

describe('risk limits', () => {
  it('has one initial value per limit, from the environment (the migration seeds the same defaults)', () => {
    expect(Object.fromEntries(LIMIT_NAMES.map((n) => [n, toWire(current[n])]))).toEqual({
      max_order_notional: '50000',
      max_position_share: '0.5',
      max_gross_exposure: '200000',
      daily_loss_limit: '5000',
      max_orders_per_day: '1000',
      max_submit_rate_per_symbol: '60',
      max_submit_rate_total: '300',
      price_band: '0.05',
      max_open_orders: '100',
    });
  });

  it('takes a change, leaving out values that stay the same, and tells raises from cuts', () => {
    const check = checkLimitChange(current, {
      price_band: '0.02',
      max_order_notional: '60000',
      max_orders_per_day: '1000',
    });
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(changesPayload(check.changes)).toEqual({
      max_order_notional: { from: '50000', to: '60000' },
      price_band: { from: '0.05', to: '0.02' },
    });
    expect(raises(check.changes).map((c) => c.name)).toEqual(['max_order_notional']);
  });

  it('refuses unknown names and fractional counts, all problems at once', () => {
    const check = checkLimitChange(current, {
      max_leverage: '3',
      max_orders_per_day: '10.5',
      price_band: '0.01',
    });
    expect(check).toEqual({
      ok: false,
      problems: [
        expect.stringMatching(/^unknown limit "max_leverage" \(known: max_order_notional, /),
        'max_orders_per_day counts orders: 10.5 is not a whole number',
      ],
    });
  });

  it('treats every limit the same way: a higher value is more risk', () => {
    for (const name of LIMIT_NAMES) {
      const check = checkLimitChange(current, { [name]: toWire(current[name].plus(money('1'))) });
      expect(check.ok && raises(check.changes).length).toBe(1);
    }
  });
});
