import { describe, expect, it } from 'vitest';
import { ConfigError } from '@desk/platform';
import { loadRiskConfig } from './config';

describe('risk config', () => {
  it('defaults the limits', () => {
    const c = loadRiskConfig({});
    expect(c.RISK_MAX_ORDER_NOTIONAL).toBe('50000');
    expect(c.RISK_MAX_PRICE_AGE_MS).toBe(30_000);
  });

  it('takes a decimal max notional and a price age', () => {
    const c = loadRiskConfig({ RISK_MAX_ORDER_NOTIONAL: '1250.5', RISK_MAX_PRICE_AGE_MS: '5000' });
    expect(c.RISK_MAX_ORDER_NOTIONAL).toBe('1250.5');
    expect(c.RISK_MAX_PRICE_AGE_MS).toBe(5000);
  });

  it.each(['abc', '0', '-5', '1e6'])('refuses max notional %s', (value) => {
    expect(() => loadRiskConfig({ RISK_MAX_ORDER_NOTIONAL: value })).toThrow(ConfigError);
    expect(() => loadRiskConfig({ RISK_MAX_ORDER_NOTIONAL: value })).toThrow(/RISK_MAX_ORDER_NOTIONAL/);
  });

  it('refuses a price age that is not a positive integer', () => {
    expect(() => loadRiskConfig({ RISK_MAX_PRICE_AGE_MS: '0' })).toThrow(/RISK_MAX_PRICE_AGE_MS/);
  });
});
