import { describe, expect, it } from '@jest/globals';
import { OrderSide, OrderType, TradingState, money, toWire } from '@desk/contracts';
import { book, ctx, limits } from '../../../test/risk-context';
import {
  dailyLossRule,
  maxGrossExposureRule,
  maxOrdersPerDayRule,
  maxOpenOrdersRule,
  maxPositionRule,
  priceBandRule,
  reduceOnlyRule,
  submitRateRule,
  tradingHaltedRule,
} from './limit-rules';
import type { Violation } from './risk-rule';

/** Violation with its figures as decimal strings, for readable expectations. */
function wire(v: Violation | undefined): Record<string, string> | undefined {
  if (!v) return undefined;
  const out: Record<string, string> = { reasonCode: v.reasonCode, reason: v.reason };
  for (const k of ['limit', 'measured', 'notional', 'referencePrice'] as const) {
    const value = v[k];
    if (value) out[k] = toWire(value);
  }
  return out;
}

const halted = { state: TradingState.Halted, reason: 'fat finger on ETH', source: 'kill' };
const reducing = {
  state: TradingState.Reducing,
  reason: 'volatility 0.08 over 0.05',
  source: 'breaker.volatility',
};

describe('trading halted rule', () => {
  it('passes while ACTIVE or REDUCING', () => {
    expect(tradingHaltedRule.check(ctx())).toBeUndefined();
    expect(tradingHaltedRule.check(ctx({}, { tradingState: reducing }))).toBeUndefined();
  });

  it('rejects every order while HALTED, saying who halted it and why', () => {
    const long = book([{ symbol: 'BTC/USDT', quantity: '1', averagePrice: '60000' }]);
    const reducingSell = ctx({ side: OrderSide.Sell, quantity: '0.5' }, { tradingState: halted, book: long });
    expect(wire(tradingHaltedRule.check(reducingSell))).toEqual({
      reasonCode: 'TRADING_HALTED',
      reason: 'trading is halted (kill: fat finger on ETH)',
    });
  });
});

describe('reduce-only rule (REDUCING)', () => {
  const long = book([{ symbol: 'BTC/USDT', quantity: '1', averagePrice: '60000' }]);

  it('passes anything while ACTIVE', () => {
    expect(reduceOnlyRule.check(ctx({}, { book: long }))).toBeUndefined();
  });

  it('passes a sell that reduces a long, up to the whole position', () => {
    expect(
      reduceOnlyRule.check(
        ctx({ side: OrderSide.Sell, quantity: '1' }, { tradingState: reducing, book: long }),
      ),
    ).toBeUndefined();
  });

  it('rejects a buy that adds to a long, and a sell that would flip it short', () => {
    expect(
      wire(reduceOnlyRule.check(ctx({ quantity: '0.1' }, { tradingState: reducing, book: long }))),
    ).toEqual({
      reasonCode: 'REDUCE_ONLY',
      reason:
        'trading is reducing (breaker.volatility): only orders that reduce a position pass; ' +
        'position 1 BTC/USDT, pending buy 0',
      measured: '1',
    });
    const flip = ctx({ side: OrderSide.Sell, quantity: '1.5' }, { tradingState: reducing, book: long });
    expect(reduceOnlyRule.check(flip)?.reasonCode).toBe('REDUCE_ONLY');
  });

  it('counts sells already pending against the position', () => {
    const pending = book([{ symbol: 'BTC/USDT', quantity: '1', averagePrice: '60000', pendingSell: '0.8' }]);
    const sell = (quantity: string) =>
      ctx({ side: OrderSide.Sell, quantity }, { tradingState: reducing, book: pending });
    expect(reduceOnlyRule.check(sell('0.2'))).toBeUndefined();
    expect(reduceOnlyRule.check(sell('0.3'))?.reasonCode).toBe('REDUCE_ONLY');
  });

  it('rejects any order on a flat symbol, and passes a buy that covers a short', () => {
    expect(reduceOnlyRule.check(ctx({ side: OrderSide.Sell }, { tradingState: reducing }))?.reasonCode).toBe(
      'REDUCE_ONLY',
    );
    const short = book([{ symbol: 'BTC/USDT', quantity: '-2', averagePrice: '60000' }]);
    expect(
      reduceOnlyRule.check(ctx({ quantity: '2' }, { tradingState: reducing, book: short })),
    ).toBeUndefined();
  });
});

describe('price band rule (fat finger)', () => {
  const limit = (side: OrderSide, price: string) =>
    ctx({ side, type: OrderType.Limit, quantity: '0.1', price });

  it('passes a limit buy up to the band above the last price, inclusive', () => {
    expect(priceBandRule.check(limit(OrderSide.Buy, '68250'))).toBeUndefined(); // exactly +5 %
  });

  it('rejects a limit buy further above the market, with the numbers', () => {
    expect(wire(priceBandRule.check(limit(OrderSide.Buy, '68250.01')))).toEqual({
      reasonCode: 'PRICE_BAND_EXCEEDED',
      reason: 'limit buy at 68250.01 is 0.05000016 through the last price 65000; band 0.05',
      limit: '0.05',
      measured: '0.05000016',
      referencePrice: '65000',
    });
  });

  it('rejects a limit sell further below the market (the typo that sells 650 for 65000)', () => {
    expect(wire(priceBandRule.check(limit(OrderSide.Sell, '6500')))).toMatchObject({
      reasonCode: 'PRICE_BAND_EXCEEDED',
      measured: '0.9',
    });
    expect(priceBandRule.check(limit(OrderSide.Sell, '61750'))).toBeUndefined(); // exactly -5 %
  });

  it('lets a passive limit rest far from the market: it cannot trade at that price', () => {
    expect(priceBandRule.check(limit(OrderSide.Buy, '1000'))).toBeUndefined();
    expect(priceBandRule.check(limit(OrderSide.Sell, '650000'))).toBeUndefined();
  });

  it('uses the band from the limits, and ignores market orders', () => {
    expect(
      priceBandRule.check({ ...limit(OrderSide.Buy, '66000'), limits: limits({ price_band: '0.01' }) })
        ?.reasonCode,
    ).toBe('PRICE_BAND_EXCEEDED');
    expect(priceBandRule.check(ctx())).toBeUndefined();
  });
});

describe('submit rate rule', () => {
  const activity = (symbol: number, total: number) => ({
    submitsLastMinuteSymbol: symbol,
    submitsLastMinuteTotal: total,
    ordersToday: 0,
    openOrdersOfActor: 0,
  });

  it('passes up to the per-symbol and total rates, inclusive', () => {
    expect(submitRateRule.check(ctx({}, { activity: activity(59, 299) }))).toBeUndefined();
  });

  it('rejects the order over the per-symbol rate', () => {
    expect(wire(submitRateRule.check(ctx({}, { activity: activity(60, 60) })))).toEqual({
      reasonCode: 'SUBMIT_RATE_EXCEEDED',
      reason: '61 orders in BTC/USDT within a minute; max 60 per minute',
      limit: '60',
      measured: '61',
    });
  });

  it('rejects the order over the total rate even when its symbol is quiet', () => {
    expect(wire(submitRateRule.check(ctx({}, { activity: activity(0, 300) })))).toMatchObject({
      reasonCode: 'SUBMIT_RATE_EXCEEDED',
      reason: '301 orders in all symbols within a minute; max 300 per minute',
    });
  });
});

describe('max orders per day rule', () => {
  const today = (n: number) => ({
    submitsLastMinuteSymbol: 0,
    submitsLastMinuteTotal: 0,
    ordersToday: n,
    openOrdersOfActor: 0,
  });

  it('passes the last order allowed today and rejects the next', () => {
    const max = limits({ max_orders_per_day: '3' });
    expect(maxOrdersPerDayRule.check(ctx({}, { limits: max, activity: today(2) }))).toBeUndefined();
    expect(wire(maxOrdersPerDayRule.check(ctx({}, { limits: max, activity: today(3) })))).toEqual({
      reasonCode: 'MAX_ORDERS_PER_DAY',
      reason: 'this would be order 4 today; max 3 per day',
      limit: '3',
      measured: '4',
    });
  });
});

describe('max open orders rule', () => {
  const open = (n: number) => ({
    submitsLastMinuteSymbol: 0,
    submitsLastMinuteTotal: 0,
    ordersToday: 0,
    openOrdersOfActor: n,
  });

  it("passes the trader's last open order allowed and rejects the next with MAX_OPEN_ORDERS", () => {
    const max = limits({ max_open_orders: '3' });
    expect(maxOpenOrdersRule.check(ctx({}, { limits: max, activity: open(2) }))).toBeUndefined();
    expect(wire(maxOpenOrdersRule.check(ctx({}, { limits: max, activity: open(3) })))).toEqual({
      reasonCode: 'MAX_OPEN_ORDERS',
      reason: 'this would be open order 4 of this trader; max 3 open orders',
      limit: '3',
      measured: '4',
    });
  });
});

describe('daily loss rule (realized plus unrealized)', () => {
  const long = [{ symbol: 'BTC/USDT', quantity: '1', averagePrice: '65000' }];

  it('passes while the loss since the start of the day is under the limit', () => {
    expect(dailyLossRule.check(ctx({}, { book: book(long, '95000.01', '100000') }))).toBeUndefined();
    expect(dailyLossRule.check(ctx({}, { book: book(long, '104000', '100000') }))).toBeUndefined(); // a gain
  });

  it('rejects new risk once the loss reaches the limit, with the numbers', () => {
    expect(wire(dailyLossRule.check(ctx({}, { book: book(long, '95000', '100000') })))).toEqual({
      reasonCode: 'DAILY_LOSS_LIMIT',
      reason:
        'loss today 5000.00 (equity 95000.00 from 100000.00 at the start of the day) has reached the limit 5000; ' +
        'only reducing orders pass',
      limit: '5000',
      measured: '5000',
    });
  });

  it('still lets an order through that reduces the position', () => {
    const sell = ctx({ side: OrderSide.Sell, quantity: '1' }, { book: book(long, '90000', '100000') });
    expect(dailyLossRule.check(sell)).toBeUndefined();
  });
});

describe('max position rule (share of equity)', () => {
  it('passes a position up to the share of equity, inclusive', () => {
    // 0.25 held + 0.25 pending + 0.25 ordered = 0.75 BTC x 65000 = 48750, within 0.5 of 100000
    const b = book([{ symbol: 'BTC/USDT', quantity: '0.25', averagePrice: '60000', pendingBuy: '0.25' }]);
    expect(maxPositionRule.check(ctx({ quantity: '0.25' }, { book: b }))).toBeUndefined();
  });

  it('counts pending orders on the same side and rejects the order that takes the worst case over', () => {
    const b = book([{ symbol: 'BTC/USDT', quantity: '0.25', averagePrice: '60000', pendingBuy: '0.25' }]);
    expect(wire(maxPositionRule.check(ctx({ quantity: '0.3' }, { book: b })))).toEqual({
      reasonCode: 'MAX_POSITION_EXCEEDED',
      reason: 'position in BTC/USDT could reach 0.8 (52000.00), over 0.5 of equity 100000.00 = 50000.00',
      limit: '50000',
      measured: '52000',
      notional: '19500',
      referencePrice: '65000',
    });
  });

  it('shrinks with equity: a smaller desk may hold less', () => {
    expect(maxPositionRule.check(ctx({ quantity: '0.5' }, { book: book([], '60000') }))?.reasonCode).toBe(
      'MAX_POSITION_EXCEEDED',
    );
  });

  it('always lets a position over the limit be reduced', () => {
    const b = book([{ symbol: 'BTC/USDT', quantity: '2', averagePrice: '60000' }]);
    expect(
      maxPositionRule.check(ctx({ side: OrderSide.Sell, quantity: '0.5' }, { book: b })),
    ).toBeUndefined();
  });

  it('measures a short the same way', () => {
    const b = book([{ symbol: 'BTC/USDT', quantity: '-0.7', averagePrice: '65000' }]);
    expect(
      maxPositionRule.check(ctx({ side: OrderSide.Sell, quantity: '0.1' }, { book: b }))?.reasonCode,
    ).toBe('MAX_POSITION_EXCEEDED');
    expect(maxPositionRule.check(ctx({ side: OrderSide.Buy, quantity: '0.1' }, { book: b }))).toBeUndefined();
  });
});

describe('max gross exposure rule', () => {
  const holdings = [
    { symbol: 'ETH/USDT', quantity: '30', averagePrice: '3000', mark: '3200' }, // 96000
    { symbol: 'SOL/USDT', quantity: '-500', averagePrice: '150', mark: '150' }, // 75000
  ];

  it('passes while the gross exposure stays within the limit, inclusive', () => {
    // 96000 + 75000 + 0.446153 BTC x 65000 = 200000 at most
    expect(
      maxGrossExposureRule.check(ctx({ quantity: '0.446153' }, { book: book(holdings) })),
    ).toBeUndefined();
  });

  it('rejects the order that takes it over, with the numbers', () => {
    expect(wire(maxGrossExposureRule.check(ctx({ quantity: '0.5' }, { book: book(holdings) })))).toEqual({
      reasonCode: 'MAX_GROSS_EXPOSURE_EXCEEDED',
      reason: 'gross exposure could reach 203500.00; max 200000',
      limit: '200000',
      measured: '203500',
      notional: '32500',
      referencePrice: '65000',
    });
  });

  it('lets an order reduce exposure even when the desk is over the limit', () => {
    const over = limits({ max_gross_exposure: '100000' });
    const sellEth = ctx(
      { symbol: 'ETH/USDT', side: OrderSide.Sell, quantity: '10' },
      {
        book: book(holdings),
        limits: over,
        lastPrice: { symbol: 'ETH/USDT', price: money('3200'), at: new Date() },
      },
    );
    expect(maxGrossExposureRule.check(sellEth)).toBeUndefined();
    expect(
      maxGrossExposureRule.check({ ...sellEth, order: { ...sellEth.order, side: OrderSide.Buy } })
        ?.reasonCode,
    ).toBe('MAX_GROSS_EXPOSURE_EXCEEDED');
  });
});
