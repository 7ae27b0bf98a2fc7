import { describe, expect, it } from '@jest/globals';
import { OrderSide, money, toWire } from '@desk/contracts';
import { Position } from './position';

function fill(side: OrderSide, quantity: string, price: string, fee = '0') {
  return { side, quantity: money(quantity), price: money(price), fee: money(fee) };
}

function wire(p: Position) {
  return {
    quantity: toWire(p.quantity),
    averagePrice: toWire(p.averagePrice),
    realizedPnl: toWire(p.realizedPnl),
    feesPaid: toWire(p.feesPaid),
    episode: p.episode,
  };
}

describe("risk's position view", () => {
  it('opens from flat at the fill price, keeps fees apart, and starts episode 1', () => {
    const p = Position.flat('BTC/USDT').apply(fill(OrderSide.Buy, '0.5', '65032.5', '32.51625'));
    expect(wire(p)).toEqual({
      quantity: '0.5',
      averagePrice: '65032.5',
      realizedPnl: '0',
      feesPaid: '32.51625',
      episode: 1,
    });
  });

  it('weights the average when adding, realizes P&L when reducing, and stays in the same episode', () => {
    const p = Position.flat('BTC/USDT')
      .apply(fill(OrderSide.Buy, '1', '100'))
      .apply(fill(OrderSide.Buy, '3', '120'))
      .apply(fill(OrderSide.Sell, '2', '130', '0.26'));
    expect(wire(p)).toEqual({
      quantity: '2',
      averagePrice: '115',
      realizedPnl: '30',
      feesPaid: '0.26',
      episode: 1,
    });
  });

  it('starts a new episode when a position reopens after going flat, or flips side', () => {
    const closed = Position.flat('ETH/USDT')
      .apply(fill(OrderSide.Buy, '1', '3000'))
      .apply(fill(OrderSide.Sell, '1', '2900'));
    expect(wire(closed)).toMatchObject({ quantity: '0', averagePrice: '0', realizedPnl: '-100', episode: 1 });
    const reopened = closed.apply(fill(OrderSide.Sell, '2', '2950'));
    expect(wire(reopened)).toMatchObject({ quantity: '-2', averagePrice: '2950', episode: 2 });
    const flipped = reopened.apply(fill(OrderSide.Buy, '3', '2900'));
    expect(wire(flipped)).toMatchObject({
      quantity: '1',
      averagePrice: '2900',
      realizedPnl: '0',
      episode: 3,
    });
  });
});
