import { describe, expect, it } from '@jest/globals';
import { OrderSide, money, toWire } from '@desk/contracts';
import { holding } from '../../../test/risk-context';
import { equityOf, reducesPosition, worstCaseQuantity } from './book';
import { Position } from './position';

describe('book arithmetic', () => {
  it('takes the worst case of the position with every pending order on one side filled', () => {
    const s = holding({ symbol: 'BTC/USDT', quantity: '1', pendingBuy: '0.5', pendingSell: '3' });
    expect(toWire(worstCaseQuantity(s))).toBe('2'); // 1 - 3 = -2 is further from zero than 1 + 0.5
  });

  it('counts an order as reducing only on the other side and never through zero', () => {
    const long = holding({ symbol: 'BTC/USDT', quantity: '1', pendingSell: '0.4' });
    expect(reducesPosition(long, OrderSide.Sell, money('0.6'))).toBe(true);
    expect(reducesPosition(long, OrderSide.Sell, money('0.61'))).toBe(false);
    expect(reducesPosition(long, OrderSide.Buy, money('0.1'))).toBe(false);
    const flat = holding({ symbol: 'BTC/USDT', quantity: '0' });
    expect(reducesPosition(flat, OrderSide.Sell, money('0.1'))).toBe(false);
    expect(reducesPosition(flat, OrderSide.Buy, money('0.1'))).toBe(false);
  });

  it('computes equity from starting capital, realized P&L, fees and unrealized P&L at the marks', () => {
    const btc = new Position('BTC/USDT', money('0.5'), money('60000'), money('1200.5'), money('45.25'), 1);
    const eth = new Position('ETH/USDT', money('-2'), money('3000'), money('-100'), money('6'), 1);
    const sol = new Position('SOL/USDT', money('10'), money('150'), money('0'), money('1.5'), 1);
    // 100000 + (1200.5 - 45.25) + (-100 - 6) + (0 - 1.5) + 0.5 x (65000 - 60000) + (-2) x (3100 - 3000);
    // SOL has no price: valued at entry (no unrealized P&L).
    const marks = new Map([
      ['BTC/USDT', money('65000')],
      ['ETH/USDT', money('3100')],
    ]);
    expect(toWire(equityOf(money('100000'), [btc, eth, sol], marks))).toBe('103347.75');
  });
});
