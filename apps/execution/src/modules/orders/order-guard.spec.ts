import { describe, expect, it } from '@jest/globals';
import { OrderSide, OrderType, TradingState, money, toWire } from '@desk/contracts';
import { isCritical, notionalOf, placementVerdict, reducesPosition } from './order-guard';

describe('reduces the position', () => {
  it('sells against a long and buys against a short, never through zero', () => {
    expect(reducesPosition(money('1'), OrderSide.Sell, money('1'), money('0'))).toBe(true);
    expect(reducesPosition(money('1'), OrderSide.Sell, money('1.01'), money('0'))).toBe(false);
    expect(reducesPosition(money('-2'), OrderSide.Buy, money('0.5'), money('1.5'))).toBe(true);
    expect(reducesPosition(money('-2'), OrderSide.Buy, money('0.5'), money('1.6'))).toBe(false);
  });

  it('never on the same side as the position, nor on a flat one', () => {
    expect(reducesPosition(money('1'), OrderSide.Buy, money('0.1'), money('0'))).toBe(false);
    expect(reducesPosition(money('0'), OrderSide.Sell, money('0.1'), money('0'))).toBe(false);
  });
});

describe('placement verdict', () => {
  it('ACTIVE: places everything but a reduce-only order that would not reduce', () => {
    expect(placementVerdict(TradingState.Active, false, false)).toEqual({ allowed: true });
    expect(placementVerdict(TradingState.Active, true, true)).toEqual({ allowed: true });
    expect(placementVerdict(TradingState.Active, true, false)).toMatchObject({
      allowed: false,
      reasonCode: 'REDUCE_ONLY',
    });
  });

  it('REDUCING: places only orders that reduce', () => {
    expect(placementVerdict(TradingState.Reducing, false, true)).toEqual({ allowed: true });
    expect(placementVerdict(TradingState.Reducing, false, false)).toEqual({
      allowed: false,
      reasonCode: 'REDUCE_ONLY',
      reason: 'trading is reducing: only orders that reduce a position are placed',
    });
  });

  it("HALTED: places only risk's reduce-only closes, and only if they reduce", () => {
    expect(placementVerdict(TradingState.Halted, false, true)).toEqual({
      allowed: false,
      reasonCode: 'TRADING_HALTED',
      reason: 'trading is halted',
    });
    expect(placementVerdict(TradingState.Halted, true, true)).toEqual({ allowed: true });
    expect(placementVerdict(TradingState.Halted, true, false)).toMatchObject({
      allowed: false,
      reasonCode: 'REDUCE_ONLY',
    });
  });
});

describe('criticality at execution', () => {
  const threshold = money('25000');

  it('values a limit order at its limit price and a market order at the last price', () => {
    const limit = {
      symbol: 'BTC/USDT',
      side: OrderSide.Buy,
      type: OrderType.Limit,
      quantity: '0.5',
      price: '50000.02',
    };
    expect(toWire(notionalOf(limit, money('70000'))!)).toBe('25000.01');
    const market = { symbol: 'BTC/USDT', side: OrderSide.Buy, type: OrderType.Market, quantity: '0.5' };
    expect(toWire(notionalOf(market, money('50000'))!)).toBe('25000');
    expect(notionalOf(market, undefined)).toBeUndefined();
  });

  it('is critical over the threshold, of unknown size, or on a live venue', () => {
    expect(isCritical(money('25000'), threshold, false)).toBe(false);
    expect(isCritical(money('25000.01'), threshold, false)).toBe(true);
    expect(isCritical(undefined, threshold, false)).toBe(true);
    expect(isCritical(money('1'), threshold, true)).toBe(true);
  });
});
