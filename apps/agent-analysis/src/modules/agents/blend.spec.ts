import { describe, expect, it } from '@jest/globals';
import { MARKET_CATALOG, OrderSide, money, toWire } from '@desk/contracts';
import { abstain, type AgentName, type Signal } from './agent';
import { blendConvictions, decide, type DecisionInput } from './blend';

const btc = MARKET_CATALOG.find((m) => m.symbol === 'BTC/USDT')!;
const equal = { trend: money('1'), 'mean-reversion': money('1'), volatility: money('1') };

function signal(agent: AgentName, conviction: string): Signal {
  const c = money(conviction);
  return { agent, direction: c.isNegative() ? 'short' : 'long', conviction: c, rationale: 'test' };
}

function input(over: Partial<DecisionInput>): DecisionInput {
  return {
    signals: [signal('trend', '0.9'), signal('mean-reversion', '0.6'), abstain('volatility', 'quiet')],
    weights: equal,
    threshold: money('0.6'),
    maxNotional: money('1000'),
    price: money('65000'),
    market: btc,
    tradingEnabled: true,
    inCooldown: false,
    ...over,
  };
}

describe('blendConvictions', () => {
  it('is the weighted mean of the agents that did not abstain', () => {
    expect(toWire(blendConvictions(input({}).signals, equal)!)).toBe('0.75');
    const weights = { trend: money('3'), 'mean-reversion': money('1'), volatility: money('1') };
    expect(
      toWire(blendConvictions([signal('trend', '0.8'), signal('mean-reversion', '-0.4')], weights)!),
    ).toBe('0.5');
    // An agent with weight 0 is recorded but does not count.
    expect(blendConvictions([signal('volatility', '1')], { ...equal, volatility: money('0') })).toBeNull();
  });

  it('has no value when every agent abstains', () => {
    expect(blendConvictions([abstain('trend', 'x'), abstain('volatility', 'y')], equal)).toBeNull();
  });
});

describe('decide', () => {
  it('emits a buy sized by conviction, rounded down to the quantity precision', () => {
    const d = decide(input({}));
    expect(d.outcome).toBe('intent');
    if (d.outcome !== 'intent') return;
    expect(d.side).toBe(OrderSide.Buy);
    // 1000 * 0.75 / 65000 = 0.0115384615... -> 0.011538 (6 decimals, down)
    expect(toWire(d.quantity)).toBe('0.011538');
  });

  it('sells on a negative blend', () => {
    const d = decide(input({ signals: [signal('trend', '-0.7'), signal('volatility', '-0.9')] }));
    expect(d).toMatchObject({ outcome: 'intent', side: OrderSide.Sell });
  });

  it('reports why no intent was emitted', () => {
    expect(decide(input({ signals: [abstain('trend', 'x')] }))).toEqual({
      outcome: 'all_abstained',
      blend: null,
    });
    expect(decide(input({ threshold: money('0.8') })).outcome).toBe('below_threshold');
    expect(decide(input({ tradingEnabled: false })).outcome).toBe('disabled');
    expect(decide(input({ inCooldown: true })).outcome).toBe('cooldown');
    // 1 USDT of BTC at 65000 is 0.0000115 -> rounds down to 0.000011; 0.01 USDT rounds to zero.
    expect(decide(input({ maxNotional: money('0.01') })).outcome).toBe('zero_quantity');
  });

  it('accepts a blend exactly at the threshold', () => {
    expect(decide(input({ threshold: money('0.75') })).outcome).toBe('intent');
  });
});
