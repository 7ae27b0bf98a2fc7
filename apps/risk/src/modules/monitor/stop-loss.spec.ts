import { describe, expect, it } from '@jest/globals';
import { money, toWire } from '@desk/contracts';
import { Position } from '../state/position';
import { stopLossCheck, stopLossPctFor } from './stop-loss';

const position = (quantity: string, averagePrice: string) =>
  new Position('BTC/USDT', money(quantity), money(averagePrice), money('0'), money('0'), 1);

describe('stop-loss', () => {
  it('stops a long at the entry price less the percentage, when the market reaches it', () => {
    const long = position('0.5', '60000');
    expect(toWire(stopLossCheck(long, money('0.05'), money('57000.01'))!.stopPrice)).toBe('57000');
    expect(stopLossCheck(long, money('0.05'), money('57000.01'))!.hit).toBe(false);
    expect(stopLossCheck(long, money('0.05'), money('57000'))!.hit).toBe(true);
  });

  it('stops a short at the entry price plus the percentage', () => {
    const short = position('-2', '3000');
    expect(stopLossCheck(short, money('0.1'), money('3299.99'))).toMatchObject({ hit: false });
    expect(stopLossCheck(short, money('0.1'), money('3300'))).toMatchObject({ hit: true });
  });

  it('has nothing to stop on a flat position', () => {
    expect(stopLossCheck(position('0', '0'), money('0.05'), money('1'))).toBeUndefined();
  });

  it('takes the per-symbol percentage before the one for every symbol', () => {
    const config = { '*': '0.05', 'ETH/USDT': '0.1' };
    expect(stopLossPctFor(config, 'ETH/USDT')?.toFixed()).toBe('0.1');
    expect(stopLossPctFor(config, 'BTC/USDT')?.toFixed()).toBe('0.05');
    expect(stopLossPctFor({}, 'BTC/USDT')).toBeUndefined();
  });
});
