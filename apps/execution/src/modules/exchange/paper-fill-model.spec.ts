import { describe, expect, it } from '@jest/globals';
import { OrderSide, OrderType, findMarket, money, toWire, type MarketSpec } from '@desk/contracts';
import type { ExchangeOrder, ExchangeOrderState } from './exchange-adapter';
import { PaperFillModel } from './paper-fill-model';

const now = new Date('2025-01-01T12:00:00.000Z');
const model = new PaperFillModel({ slippageBps: 5, feeBps: 10, maxPriceAgeMs: 30_000 });
const btc = findMarket('BTC/USDT') as MarketSpec;
const sol = findMarket('SOL/USDT') as MarketSpec;

function order(side: OrderSide, type: OrderType, quantity: string, price?: string): ExchangeOrder {
  return {
    clientOrderId: '00000000-0000-4000-8000-000000000001',
    symbol: 'BTC/USDT',
    side,
    type,
    quantity: money(quantity),
    price: price === undefined ? null : money(price),
  };
}

function last(price: string, ageMs = 0): { price: ReturnType<typeof money>; at: Date } {
  return { price: money(price), at: new Date(now.getTime() - ageMs) };
}

function filled(state: ExchangeOrderState): {
  price: string;
  quantity: string;
  fee: string;
  feeCurrency: string;
} {
  if (state.state !== 'filled') throw new Error(`expected a fill, got ${state.state}: ${state.detail}`);
  return {
    price: toWire(state.fill.price),
    quantity: toWire(state.fill.quantity),
    fee: toWire(state.fill.fee),
    feeCurrency: state.fill.feeCurrency,
  };
}

describe('PaperFillModel', () => {
  it('fills a market buy above the last price by the slippage, with the fee on the notional in the quote currency', () => {
    const state = model.evaluate(order(OrderSide.Buy, OrderType.Market, '0.5'), btc, last('65000'), now);
    // 65000 × 1.0005 = 65032.5; notional 32516.25; fee 10 bps = 32.51625
    expect(filled(state)).toEqual({
      price: '65032.5',
      quantity: '0.5',
      fee: '32.51625',
      feeCurrency: 'USDT',
    });
  });

  it('fills a market sell below the last price by the slippage', () => {
    const state = model.evaluate(order(OrderSide.Sell, OrderType.Market, '2'), btc, last('65000'), now);
    // 65000 × 0.9995 = 64967.5; notional 129935; fee 129.935
    expect(filled(state)).toEqual({ price: '64967.5', quantity: '2', fee: '129.935', feeCurrency: 'USDT' });
  });

  it('rounds the fill price to the market precision against the trader', () => {
    // 150.123 × 1.0005 = 150.1980615 → buy pays 150.199 (SOL has 3 decimals); sell: 150.0479385 → 150.047
    expect(
      filled(model.evaluate(order(OrderSide.Buy, OrderType.Market, '1'), sol, last('150.123'), now)).price,
    ).toBe('150.199');
    expect(
      filled(model.evaluate(order(OrderSide.Sell, OrderType.Market, '1'), sol, last('150.123'), now)).price,
    ).toBe('150.047');
  });

  it('leaves an order open without a price, or with a price older than the maximum age', () => {
    const buy = order(OrderSide.Buy, OrderType.Market, '1');
    expect(model.evaluate(buy, btc, undefined, now)).toEqual({
      state: 'open',
      detail: 'no market price yet',
    });
    expect(model.evaluate(buy, btc, last('65000', 30_001), now)).toEqual({
      state: 'open',
      detail: 'market price is stale',
    });
    expect(model.evaluate(buy, btc, last('65000', 30_000), now).state).toBe('filled');
  });

  it('rests a limit buy until the last price is at or below the limit, then fills at the better price without slippage', () => {
    const buy = order(OrderSide.Buy, OrderType.Limit, '1', '64000');
    expect(model.evaluate(buy, btc, last('64000.01'), now)).toEqual({
      state: 'open',
      detail: 'limit price not reached',
    });
    expect(filled(model.evaluate(buy, btc, last('64000'), now))).toMatchObject({ price: '64000', fee: '64' });
    expect(filled(model.evaluate(buy, btc, last('63500'), now))).toMatchObject({
      price: '63500',
      fee: '63.5',
    });
  });

  it('rests a limit sell until the last price is at or above the limit, then fills at the better price', () => {
    const sell = order(OrderSide.Sell, OrderType.Limit, '1', '66000');
    expect(model.evaluate(sell, btc, last('65999.99'), now).state).toBe('open');
    expect(filled(model.evaluate(sell, btc, last('66250'), now))).toMatchObject({
      price: '66250',
      fee: '66.25',
    });
  });

  it('charges no fee when the fee is configured to zero', () => {
    const free = new PaperFillModel({ slippageBps: 0, feeBps: 0, maxPriceAgeMs: 30_000 });
    expect(
      filled(free.evaluate(order(OrderSide.Buy, OrderType.Market, '1'), btc, last('65000'), now)),
    ).toMatchObject({
      price: '65000',
      fee: '0',
    });
  });
});
