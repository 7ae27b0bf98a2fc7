import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '@desk/platform';
import { loadRiskConfig } from './config';

/** The message a call throws, or undefined when it does not throw. */
function thrown(call: () => unknown): string | undefined {
  try {
    call();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

describe('risk config', () => {
  it('defaults the limits, the two-man threshold, the day and the breakers', () => {
    expect(loadRiskConfig({})).toMatchObject({
      RISK_MAX_ORDER_NOTIONAL: '50000',
      RISK_MAX_PRICE_AGE_MS: 30_000,
      RISK_SYMBOL_ALLOWLIST: [],
      APPROVAL_NOTIONAL_THRESHOLD: '25000',
      RISK_STARTING_EQUITY: '100000',
      RISK_DAY_TIMEZONE: 'UTC',
      RISK_BREAKER_INTERVAL_MS: 1000,
      RISK_BREAKER_CONSECUTIVE: 3,
      RISK_DRAWDOWN_ACTION: 'HALTED',
      RISK_ERROR_RATE_ACTION: 'HALTED',
      RISK_VOLATILITY_ACTION: 'REDUCING',
      RISK_STOP_LOSS_PCT: {},
    });
  });

  it('defaults the leader lock to a 1 s poll and a 10 s session timeout, and refuses a timeout under 3 polls', () => {
    expect(loadRiskConfig({})).toMatchObject({
      RISK_LEADER_POLL_MS: 1000,
      RISK_LEADER_SESSION_TIMEOUT_MS: 10_000,
    });
    expect(thrown(() => loadRiskConfig({ RISK_LEADER_POLL_MS: '4000' }))).toMatch(
      /RISK_LEADER_SESSION_TIMEOUT_MS: must be at least 3 x RISK_LEADER_POLL_MS/,
    );
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

  it('validates the day time zone at boot', () => {
    expect(loadRiskConfig({ RISK_DAY_TIMEZONE: 'America/New_York' }).RISK_DAY_TIMEZONE).toBe(
      'America/New_York',
    );
    expect(() => loadRiskConfig({ RISK_DAY_TIMEZONE: 'Mars/Olympus' })).toThrow(/RISK_DAY_TIMEZONE/);
  });

  it('takes a stop-loss for every symbol or per symbol, and refuses nonsense', () => {
    expect(loadRiskConfig({ RISK_STOP_LOSS_PCT: '0.05' }).RISK_STOP_LOSS_PCT).toEqual({ '*': '0.05' });
    expect(loadRiskConfig({ RISK_STOP_LOSS_PCT: 'BTC/USDT=0.05, ETH/USDT=.1' }).RISK_STOP_LOSS_PCT).toEqual({
      'BTC/USDT': '0.05',
      'ETH/USDT': '0.1',
    });
    for (const bad of ['5%', '0', '1.5', 'DOGE/USDT=0.05', 'BTC/USDT'])
      expect({ bad, error: thrown(() => loadRiskConfig({ RISK_STOP_LOSS_PCT: bad })) }).toEqual({
        bad,
        error: expect.stringMatching(/RISK_STOP_LOSS_PCT/),
      });
  });

  it('refuses breaker thresholds that are not fractions and actions other than REDUCING or HALTED', () => {
    expect(() => loadRiskConfig({ RISK_DRAWDOWN_THRESHOLD: '1.5' })).toThrow(/RISK_DRAWDOWN_THRESHOLD/);
    expect(() => loadRiskConfig({ RISK_VOLATILITY_ACTION: 'ACTIVE' })).toThrow(/RISK_VOLATILITY_ACTION/);
    expect(() => loadRiskConfig({ RISK_SYMBOL_ALLOWLIST: 'BTC/USDT,DOGE/USDT' })).toThrow(
      /RISK_SYMBOL_ALLOWLIST/,
    );
  });
});
