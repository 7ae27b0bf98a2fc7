import { describe, expect, it } from '@jest/globals';
import {
  OrderSide,
  OrderType,
  TimeInForce,
  findMarket,
  money,
  toWire,
  type MarketSpec,
} from '@desk/contracts';
import { PaperFillModel, type PaperMatch, type PaperOrderTerms } from './paper-fill-model';

const now = new Date('2025-01-01T12:00:00.000Z');
const settings = { slippageBps: 5, feeBps: 10, maxPriceAgeMs: 30_000, liquidityNotional: money('1000000') };
const model = new PaperFillModel(settings);
const btc = findMarket('BTC/USDT') as MarketSpec;
const sol = findMarket('SOL/USDT') as MarketSpec;

function order(
  side: OrderSide,
  type: OrderType,
  quantity: string,
  price?: string,
  timeInForce: TimeInForce | null = null,
): PaperOrderTerms {
  return {
    side,
    type,
    remaining: money(quantity),
    price: price === undefined ? null : money(price),
    timeInForce,
  };
}

function last(price: string, ageMs = 0): { price: ReturnType<typeof money>; at: Date } {
  return { price: money(price), at: new Date(now.getTime() - ageMs) };
}

/** The old shape the cases below were written against: `state` open/filled. */
const legacy = {
  evaluate(o: PaperOrderTerms, market: MarketSpec, l: ReturnType<typeof last> | undefined, at: Date) {
    return shape(model.match(o, market, l, at));
  },
};

function shape(m: PaperMatch): { state: string; detail?: string; fill?: PaperMatch } {
  if (m.kind === 'wait') return { state: 'open', detail: m.detail };
  if (m.kind === 'expire') return { state: 'expired', detail: m.detail };
  return { state: 'filled', fill: m };
}

function filled(state: { state: string; detail?: string; fill?: PaperMatch }): {
  price: string;
  quantity: string;
  fee: string;
  feeCurrency: string;
} {
  const f = state.fill;
  if (state.state !== 'filled' || !f || f.kind !== 'fill')
    throw new Error(`expected a fill, got ${state.state}: ${state.detail ?? ''}`);
  return {
    price: toWire(f.price),
    quantity: toWire(f.quantity),
    fee: toWire(f.fee),
    feeCurrency: f.feeCurrency,
  };
}

describe('PaperFillModel', () => {
  it('fills a market buy above the last price by the slippage, with the fee on the notional in the quote currency', () => {
    const state = legacy.evaluate(order(OrderSide.Buy, OrderType.Market, '0.5'), btc, last('65000'), now);
    // 65000 × 1.0005 = 65032.5; notional 32516.25; fee 10 bps = 32.51625
    expect(filled(state)).toEqual({
      price: '65032.5',
      quantity: '0.5',
      fee: '32.51625',
      feeCurrency: 'USDT',
    });
  });

  it('fills a market sell below the last price by the slippage', () => {
    const state = legacy.evaluate(order(OrderSide.Sell, OrderType.Market, '2'), btc, last('65000'), now);
    // 65000 × 0.9995 = 64967.5; notional 129935; fee 129.935
    expect(filled(state)).toEqual({ price: '64967.5', quantity: '2', fee: '129.935', feeCurrency: 'USDT' });
  });

  it('rounds the fill price to the market precision against the trader', () => {
    // 150.123 × 1.0005 = 150.1980615 → buy pays 150.199 (SOL has 3 decimals); sell: 150.0479385 → 150.047
    expect(
      filled(legacy.evaluate(order(OrderSide.Buy, OrderType.Market, '1'), sol, last('150.123'), now)).price,
    ).toBe('150.199');
    expect(
      filled(legacy.evaluate(order(OrderSide.Sell, OrderType.Market, '1'), sol, last('150.123'), now)).price,
    ).toBe('150.047');
  });

  it('leaves an order open without a price, or with a price older than the maximum age', () => {
    const buy = order(OrderSide.Buy, OrderType.Market, '1');
    expect(legacy.evaluate(buy, btc, undefined, now)).toEqual({
      state: 'open',
      detail: 'no market price yet',
    });
    expect(legacy.evaluate(buy, btc, last('65000', 30_001), now)).toEqual({
      state: 'open',
      detail: 'market price is stale',
    });
    expect(legacy.evaluate(buy, btc, last('65000', 30_000), now).state).toBe('filled');
  });

  it('rests a limit buy until the last price is at or below the limit, then fills at the better price without slippage', () => {
    const buy = order(OrderSide.Buy, OrderType.Limit, '1', '64000');
    expect(legacy.evaluate(buy, btc, last('64000.01'), now)).toEqual({
      state: 'open',
      detail: 'limit price not reached',
    });
    expect(filled(legacy.evaluate(buy, btc, last('64000'), now))).toMatchObject({
      price: '64000',
      fee: '64',
    });
    expect(filled(legacy.evaluate(buy, btc, last('63500'), now))).toMatchObject({
      price: '63500',
      fee: '63.5',
    });
  });

  it('rests a limit sell until the last price is at or above the limit, then fills at the better price', () => {
    const sell = order(OrderSide.Sell, OrderType.Limit, '1', '66000');
    expect(legacy.evaluate(sell, btc, last('65999.99'), now).state).toBe('open');
    expect(filled(legacy.evaluate(sell, btc, last('66250'), now))).toMatchObject({
      price: '66250',
      fee: '66.25',
    });
  });

  it('charges no fee when the fee is configured to zero', () => {
    const free = new PaperFillModel({ ...settings, slippageBps: 0, feeBps: 0 });
    expect(
      filled(shape(free.match(order(OrderSide.Buy, OrderType.Market, '1'), btc, last('65000'), now))),
    ).toMatchObject({
      price: '65000',
      fee: '0',
    });
  });

  it('fills a large order in parts: each match takes at most the liquidity on offer, rounded down to the lot size', () => {
    const thin = new PaperFillModel({ ...settings, slippageBps: 0, liquidityNotional: money('100000') });
    // 100000 / 65000 = 1.538461538… → 1.538461 BTC (step 0.000001)
    const first = thin.match(order(OrderSide.Buy, OrderType.Market, '4'), btc, last('65000'), now);
    expect(first).toMatchObject({ kind: 'fill' });
    expect(first.kind === 'fill' && toWire(first.quantity)).toBe('1.538461');
    const rest = thin.match(order(OrderSide.Buy, OrderType.Market, '0.5'), btc, last('65000'), now);
    expect(rest.kind === 'fill' && toWire(rest.quantity)).toBe('0.5');
  });

  it('expires an IOC limit that does not cross, and a FOK the book cannot fill completely', () => {
    const thin = new PaperFillModel({ ...settings, liquidityNotional: money('100000') });
    expect(
      thin.match(
        order(OrderSide.Buy, OrderType.Limit, '1', '64000', TimeInForce.Ioc),
        btc,
        last('65000'),
        now,
      ),
    ).toEqual({ kind: 'expire', detail: 'limit price not reached' });
    expect(
      thin.match(
        order(OrderSide.Buy, OrderType.Limit, '2', '66000', TimeInForce.Fok),
        btc,
        last('65000'),
        now,
      ),
    ).toEqual({ kind: 'expire', detail: 'not enough liquidity to fill or kill' });
    const ioc = thin.match(
      order(OrderSide.Buy, OrderType.Limit, '2', '66000', TimeInForce.Ioc),
      btc,
      last('65000'),
      now,
    );
    expect(ioc.kind === 'fill' && toWire(ioc.quantity)).toBe('1.538461');
  });

  it('says a post-only limit would take when the market already reached its price', () => {
    expect(model.wouldTake(order(OrderSide.Buy, OrderType.Limit, '1', '65000'), last('64999'))).toBe(true);
    expect(model.wouldTake(order(OrderSide.Buy, OrderType.Limit, '1', '64000'), last('64999'))).toBe(false);
    expect(model.wouldTake(order(OrderSide.Sell, OrderType.Limit, '1', '64000'), last('64999'))).toBe(true);
  });
});
