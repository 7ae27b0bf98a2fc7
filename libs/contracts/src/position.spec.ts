import { describe, expect, it } from '@jest/globals';
import { money, toWire } from './money';
import { OrderSide } from './orders';
import { FLAT_POSITION, applyFill, unrealizedPnl, type PositionAmounts } from './position';

function fill(side: OrderSide, quantity: string, price: string, fee = '0') {
  return { side, quantity: money(quantity), price: money(price), fee: money(fee) };
}

function wire(p: PositionAmounts): Record<string, string> {
  return {
    quantity: toWire(p.quantity),
    averagePrice: toWire(p.averagePrice),
    realizedPnl: toWire(p.realizedPnl),
    feesPaid: toWire(p.feesPaid),
  };
}

describe('position arithmetic (applyFill)', () => {
  it('opens from flat at the fill price and accumulates fees', () => {
    const position = applyFill(FLAT_POSITION, fill(OrderSide.Buy, '0.5', '65032.5', '32.51625'));
    expect(wire(position)).toEqual({
      quantity: '0.5',
      averagePrice: '65032.5',
      realizedPnl: '0',
      feesPaid: '32.51625',
    });
    expect(toWire(position.realized)).toBe('0');
  });

  it('weights the average entry price when adding to a long', () => {
    const p = applyFill(
      applyFill(FLAT_POSITION, fill(OrderSide.Buy, '1', '100', '0.1')),
      fill(OrderSide.Buy, '3', '120', '0.36'),
    );
    expect(wire(p)).toEqual({ quantity: '4', averagePrice: '115', realizedPnl: '0', feesPaid: '0.46' });
  });

  it('realizes P&L on a partial reduce and keeps the average price', () => {
    const long = applyFill(FLAT_POSITION, fill(OrderSide.Buy, '2', '100'));
    const position = applyFill(long, fill(OrderSide.Sell, '0.5', '110'));
    const { realized } = position;
    expect(toWire(realized)).toBe('5');
    expect(wire(position)).toEqual({ quantity: '1.5', averagePrice: '100', realizedPnl: '5', feesPaid: '0' });
  });

  it('goes flat with a zero average price when fully closed', () => {
    const long = applyFill(FLAT_POSITION, fill(OrderSide.Buy, '2', '100'));
    const position = applyFill(long, fill(OrderSide.Sell, '2', '90'));
    expect(wire(position)).toEqual({ quantity: '0', averagePrice: '0', realizedPnl: '-20', feesPaid: '0' });
  });

  it('flips a long to a short: realizes on the closed part and opens the rest at the fill price', () => {
    const long = applyFill(FLAT_POSITION, fill(OrderSide.Buy, '1', '100'));
    const position = applyFill(long, fill(OrderSide.Sell, '3', '130', '0.39'));
    const { realized } = position;
    expect(toWire(realized)).toBe('30');
    expect(wire(position)).toEqual({
      quantity: '-2',
      averagePrice: '130',
      realizedPnl: '30',
      feesPaid: '0.39',
    });
  });

  it('profits on a short when buying back lower, and averages a growing short', () => {
    const short = applyFill(
      applyFill(FLAT_POSITION, fill(OrderSide.Sell, '1', '3000')),
      fill(OrderSide.Sell, '1', '3100'),
    );
    expect(wire(short)).toMatchObject({ quantity: '-2', averagePrice: '3050' });
    const position = applyFill(short, fill(OrderSide.Buy, '1', '2950'));
    const { realized } = position;
    expect(toWire(realized)).toBe('100');
    expect(wire(position)).toMatchObject({ quantity: '-1', averagePrice: '3050', realizedPnl: '100' });
  });

  it('keeps decimal precision (no float drift) and bounds the average to 18 decimals', () => {
    const p = applyFill(
      applyFill(FLAT_POSITION, fill(OrderSide.Buy, '0.1', '0.1')),
      fill(OrderSide.Buy, '0.2', '0.2'),
    );
    expect(toWire(p.quantity)).toBe('0.3');
    // (0.01 + 0.04) / 0.3 = 0.1666…, rounded to 18 places
    expect(toWire(p.averagePrice)).toBe('0.166666666666666667');
  });

  it('values the open quantity at a mark price, long and short', () => {
    const long = applyFill(FLAT_POSITION, fill(OrderSide.Buy, '2', '100'));
    expect(toWire(unrealizedPnl(long, money('90.5')))).toBe('-19');
    const short = applyFill(FLAT_POSITION, fill(OrderSide.Sell, '2', '100'));
    expect(toWire(unrealizedPnl(short, money('90.5')))).toBe('19');
  });
});
