import { describe, expect, it } from '@jest/globals';
import { OrderSide, OrderType, type OrderParams } from './orders';
import { actorDifferences, orderDifferences, recordedOrderDifferences } from './recorded-order';

const order = (o: Partial<OrderParams> = {}): OrderParams => ({
  symbol: 'BTC/USDT',
  side: OrderSide.Buy,
  type: OrderType.Limit,
  quantity: '0.1',
  price: '64000',
  ...o,
});

describe('orderDifferences', () => {
  it('finds none between the same order, whatever way its decimals are written', () => {
    expect(orderDifferences(order(), order({ quantity: '0.10', price: '64000.000' }))).toEqual([]);
  });

  it('names every field that differs, with both values', () => {
    expect(
      orderDifferences(
        order(),
        order({ side: OrderSide.Sell, quantity: '0.1000000000000000001', price: '64001' }),
      ),
    ).toEqual([
      'order.side: sell ≠ recorded buy',
      'order.quantity: 0.1000000000000000001 ≠ recorded 0.1',
      'order.price: 64001 ≠ recorded 64000',
    ]);
  });

  it('tells a market order from a limit order without a price', () => {
    const market = order({ type: OrderType.Market, price: undefined });
    expect(orderDifferences(market, order())).toEqual([
      'order.type: limit ≠ recorded market',
      'order.price: 64000 ≠ recorded (none)',
    ]);
  });
});

describe('actorDifferences', () => {
  const alice = { type: 'operator' as const, id: 'alice', keyId: 'kid_00000000000000aa' };

  it('requires the same operator and the same key', () => {
    expect(actorDifferences(alice, { ...alice })).toEqual([]);
    expect(actorDifferences(alice, { type: 'operator', id: 'alice' })).toEqual([
      'actor.keyId: (none) ≠ recorded kid_00000000000000aa',
    ]);
    expect(
      recordedOrderDifferences(
        { actor: alice, order: order() },
        { actor: { ...alice, id: 'bob' }, order: order() },
      ),
    ).toEqual(['actor.id: bob ≠ recorded alice']);
  });
});
