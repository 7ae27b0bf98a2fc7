import { describe, expect, it } from '@jest/globals';
import { OrderSide, OrderStatus, OrderType, money, toWire, type Actor } from '@desk/contracts';
import { DecisionLedger } from './decision-ledger';

const ann: Actor = { type: 'operator', id: 'ann', keyId: 'k1' };
const annOtherKey: Actor = { type: 'operator', id: 'ann', keyId: 'k2' };
const bob: Actor = { type: 'operator', id: 'bob', keyId: 'k3' };
const order = (symbol: string, side: OrderSide, quantity: string) => ({
  symbol,
  side,
  type: OrderType.Market,
  quantity,
});

describe('DecisionLedger: a batch counts its own decisions as if they were committed', () => {
  const ledger = () =>
    new DecisionLedger({
      pending: new Map([['BTC/USDT', { buy: money('0.5'), sell: money('0') }]]),
      lastMinuteBySymbol: new Map([
        ['BTC/USDT', 3],
        ['ETH/USDT', 2],
      ]),
      ordersToday: 10,
      openByActor: new Map([['operator\u0000ann', 2]]),
    });

  it('starts from what was read: the last minute totalled over symbols, unknown actors and symbols at zero', () => {
    const l = ledger();
    expect(l.activity('BTC/USDT', ann)).toEqual({
      submitsLastMinuteSymbol: 3,
      submitsLastMinuteTotal: 5,
      ordersToday: 10,
      openOrdersOfActor: 2,
    });
    expect(l.activity('SOL/USDT', bob)).toEqual({
      submitsLastMinuteSymbol: 0,
      submitsLastMinuteTotal: 5,
      ordersToday: 10,
      openOrdersOfActor: 0,
    });
  });

  it('an accepted order adds to the rate, the day, its actor (whichever key) and the pending exposure, to the decimal', () => {
    const l = ledger();
    l.record(order('BTC/USDT', OrderSide.Buy, '0.1'), ann, OrderStatus.Accepted);
    l.record(order('BTC/USDT', OrderSide.Sell, '0.2'), annOtherKey, OrderStatus.Accepted);
    expect(l.activity('BTC/USDT', ann)).toMatchObject({
      submitsLastMinuteSymbol: 5,
      submitsLastMinuteTotal: 7,
      ordersToday: 12,
      openOrdersOfActor: 4,
    });
    expect(l.activity('BTC/USDT', bob).openOrdersOfActor).toBe(0);
    const p = l.pending().get('BTC/USDT')!;
    expect([toWire(p.buy), toWire(p.sell)]).toEqual(['0.6', '0.2']);
  });

  it('a held order is open and of the day but not pending exposure; a rejected one counts only toward the rate', () => {
    const l = ledger();
    l.record(order('ETH/USDT', OrderSide.Buy, '1'), bob, OrderStatus.PendingApproval);
    l.record(order('ETH/USDT', OrderSide.Buy, '1'), bob, OrderStatus.Rejected);
    expect(l.activity('ETH/USDT', bob)).toEqual({
      submitsLastMinuteSymbol: 4,
      submitsLastMinuteTotal: 7,
      ordersToday: 11,
      openOrdersOfActor: 1,
    });
    expect(l.pending().get('ETH/USDT')).toBeUndefined();
  });

  it('never changes the reading it was built from', () => {
    const pending = new Map([['BTC/USDT', { buy: money('1'), sell: money('0') }]]);
    const l = new DecisionLedger({
      pending,
      lastMinuteBySymbol: new Map(),
      ordersToday: 0,
      openByActor: new Map(),
    });
    l.record(order('BTC/USDT', OrderSide.Buy, '1'), ann, OrderStatus.Accepted);
    expect(toWire(pending.get('BTC/USDT')!.buy)).toBe('1');
  });
});
