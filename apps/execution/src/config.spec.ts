import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '@desk/platform';
import { loadExecutionConfig } from './config';

describe('execution config', () => {
  it('defaults to the paper exchange with the documented paper settings', () => {
    expect(loadExecutionConfig({})).toMatchObject({
      EXECUTION_MODE: 'paper',
      EXECUTION_TICK_MS: 500,
      EXECUTION_MAX_PRICE_AGE_MS: 30_000,
      PAPER_SLIPPAGE_BPS: 5,
      PAPER_FEE_BPS: 10,
      APPROVAL_NOTIONAL_THRESHOLD: '25000',
    });
  });

  it('takes a decimal approval threshold and refuses zero', () => {
    expect(loadExecutionConfig({ APPROVAL_NOTIONAL_THRESHOLD: '1000.5' }).APPROVAL_NOTIONAL_THRESHOLD).toBe(
      '1000.5',
    );
    expect(() => loadExecutionConfig({ APPROVAL_NOTIONAL_THRESHOLD: '0' })).toThrow(
      /APPROVAL_NOTIONAL_THRESHOLD/,
    );
  });

  it.each(['testnet', 'live'])(
    'refuses EXECUTION_MODE=%s at boot: only paper exists in this version',
    (mode) => {
      expect(() => loadExecutionConfig({ EXECUTION_MODE: mode })).toThrow(ConfigError);
      expect(() => loadExecutionConfig({ EXECUTION_MODE: mode })).toThrow(
        /EXECUTION_MODE: only "paper" is available/,
      );
    },
  );

  it('refuses an unknown mode and a negative fee', () => {
    expect(() => loadExecutionConfig({ EXECUTION_MODE: 'papr' })).toThrow(
      /EXECUTION_MODE: must be one of paper, testnet, live/,
    );
    expect(() => loadExecutionConfig({ PAPER_FEE_BPS: '-1' })).toThrow(/PAPER_FEE_BPS/);
  });
});
