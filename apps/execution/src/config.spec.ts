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
    'refuses EXECUTION_MODE=%s without a venue, or with one whose keys are not listed',
    (mode) => {
      expect(() => loadExecutionConfig({ EXECUTION_MODE: mode })).toThrow(ConfigError);
      expect(() => loadExecutionConfig({ EXECUTION_MODE: mode })).toThrow(/EXECUTION_VENUE: is required/);
      expect(() => loadExecutionConfig({ EXECUTION_MODE: mode, EXECUTION_VENUE: 'binance' })).toThrow(
        /EXCHANGE_VENUES: must list binance/,
      );
      expect(() =>
        loadExecutionConfig({ EXECUTION_MODE: mode, EXECUTION_VENUE: 'paper', EXCHANGE_VENUES: 'paper' }),
      ).toThrow(/EXECUTION_VENUE: must be a ccxt exchange id/);
      expect(
        loadExecutionConfig({
          EXECUTION_MODE: mode,
          EXECUTION_VENUE: 'binance',
          EXCHANGE_VENUES: 'kraken,binance',
        }),
      ).toMatchObject({ EXECUTION_MODE: mode, EXECUTION_VENUE: 'binance' });
    },
  );

  it('refuses a lease shorter than two venue timeouts plus the receive window, and malformed paper balances', () => {
    expect(() =>
      loadExecutionConfig({ EXECUTION_VENUE_TIMEOUT_MS: '10000', EXECUTION_LEASE_MS: '20000' }),
    ).toThrow(/EXECUTION_LEASE_MS: must be at least twice/);
    expect(() => loadExecutionConfig({ PAPER_STARTING_BALANCES: 'USDT:100' })).toThrow(
      /PAPER_STARTING_BALANCES/,
    );
  });

  it('refuses an unknown mode and a negative fee', () => {
    expect(() => loadExecutionConfig({ EXECUTION_MODE: 'papr' })).toThrow(
      /EXECUTION_MODE: must be one of paper, testnet, live/,
    );
    expect(() => loadExecutionConfig({ PAPER_FEE_BPS: '-1' })).toThrow(/PAPER_FEE_BPS/);
  });
});
