import { describe, expect, it } from '@jest/globals';
import { loadAgentAnalysisConfig } from './config';

describe('agent-analysis config', () => {
  it('has safe defaults', () => {
    const c = loadAgentAnalysisConfig({});
    expect(c).toMatchObject({
      MARKET_FEED: 'sim',
      MARKET_FEED_SEED: 42,
      MARKET_FEED_TIMEFRAME: '1m',
      AGENT_SCHEDULE_MS: 5000,
      AGENT_WEIGHTS: { trend: '1', 'mean-reversion': '1', volatility: '1' },
      AGENT_CONVICTION_THRESHOLD: '0.6',
      AGENT_MAX_ORDER_NOTIONAL: '1000',
      AGENT_COOLDOWN_MS: 60_000,
      AGENT_TRADING_ENABLED: true,
    });
  });

  it('parses weights; an agent left out gets weight 0', () => {
    expect(loadAgentAnalysisConfig({ AGENT_WEIGHTS: ' trend = 2 , volatility=0.5' }).AGENT_WEIGHTS).toEqual({
      trend: '2',
      'mean-reversion': '0',
      volatility: '0.5',
    });
  });

  it.each([
    ['momentum=1', /unknown agent "momentum"/],
    ['trend=1,trend=2', /listed twice/],
    ['trend=-1', /non-negative decimal/],
    ['trend', /name=weight/],
    ['trend=0,volatility=0', /at least one agent needs a positive weight/],
  ])('rejects AGENT_WEIGHTS=%s', (value, message) => {
    expect(() => loadAgentAnalysisConfig({ AGENT_WEIGHTS: value })).toThrow(message);
  });

  it('rejects an out-of-range threshold, a csv feed without a file and unknown symbols', () => {
    expect(() => loadAgentAnalysisConfig({ AGENT_CONVICTION_THRESHOLD: '1.5' })).toThrow(
      /AGENT_CONVICTION_THRESHOLD/,
    );
    expect(() => loadAgentAnalysisConfig({ AGENT_MAX_ORDER_NOTIONAL: '0' })).toThrow(
      /AGENT_MAX_ORDER_NOTIONAL/,
    );
    expect(() => loadAgentAnalysisConfig({ MARKET_FEED: 'csv' })).toThrow(
      /MARKET_FEED_CSV_PATH: is required/,
    );
    expect(() => loadAgentAnalysisConfig({ TRADING_SYMBOLS: 'BTC/USDT,DOGE/USDT' })).toThrow(
      /"DOGE\/USDT" is not in the market catalog/,
    );
  });
});
