import { describe, expect, it } from '@jest/globals';
import { findMarket, type MarketSpec } from './markets';
import { money } from './money';
import { marketFilterProblems, notionalProblem, orderMarketProblems } from './order-rules';
import { OrderSide, OrderType, RiskReasonCode, type OrderParams } from './orders';

const enabled = ['BTC/USDT', 'ETH/USDT'];
const btc = findMarket('BTC/USDT') as MarketSpec;
const order = (o: Partial<OrderParams>): OrderParams => ({
  symbol: 'BTC/USDT',
  side: OrderSide.Buy,
  type: OrderType.Market,
  quantity: '0.01',
  ...o,
});
/** A venue's market with coarser filters than the paper catalog's (as ccxt's loadMarkets gives them). */
const venueBtc: MarketSpec = {
  ...btc,
  tickSize: '0.1',
  stepSize: '0.00001',
  minQuantity: '0.0001',
  minNotional: '5',
  pricePrecision: 2,
  quantityPrecision: 6,
};
const problems = (o: Partial<OrderParams>, market: MarketSpec | undefined = btc) =>
  orderMarketProblems(order(o), market, enabled);
const limit = (o: Partial<OrderParams>, market: MarketSpec = venueBtc) =>
  problems({ type: OrderType.Limit, price: '64000.5', ...o }, market);

describe('orderMarketProblems', () => {
  it('accepts a well-formed order', () => {
    expect(problems({})).toEqual([]);
    expect(problems({ type: OrderType.Limit, price: '64000.5' })).toEqual([]);
    expect(limit({ quantity: '0.0001' })).toEqual([]);
  });

  it('refuses a symbol that is not enabled, or that the venue’s catalog does not know', () => {
    expect(problems({ symbol: 'SOL/USDT' }, findMarket('SOL/USDT'))).toEqual([
      expect.objectContaining({ field: 'symbol', code: RiskReasonCode.UnknownSymbol }),
    ]);
    expect(problems({ symbol: 'DOGE/USDT' }, undefined)[0]?.code).toBe(RiskReasonCode.UnknownSymbol);
    // Enabled, but the catalog has no such market.
    expect(problems({ symbol: 'ETH/USDT' }, undefined)).toEqual([
      {
        field: 'symbol',
        code: RiskReasonCode.UnknownSymbol,
        reason: 'unknown symbol; known: BTC/USDT, ETH/USDT',
      },
    ]);
    // A market of another symbol is never used for this one.
    expect(problems({ symbol: 'ETH/USDT' }, btc)[0]?.code).toBe(RiskReasonCode.UnknownSymbol);
  });

  it('refuses zero quantity and too many decimals', () => {
    expect(problems({ quantity: '0' })[0]?.code).toBe(RiskReasonCode.QuantityNotPositive);
    expect(problems({ quantity: '0.0000001' })).toEqual([
      {
        field: 'quantity',
        code: RiskReasonCode.PrecisionExceeded,
        reason: 'BTC/USDT allows at most 6 decimals',
      },
    ]);
  });

  it('checks the limit price', () => {
    const price = (p?: string) => problems({ type: OrderType.Limit, price: p });
    expect(price(undefined)[0]?.code).toBe(RiskReasonCode.LimitPriceMissing);
    expect(price('0')[0]?.code).toBe(RiskReasonCode.PriceNotPositive);
    expect(price('100.123')[0]).toMatchObject({ field: 'price', code: RiskReasonCode.PrecisionExceeded });
  });

  it('refuses a quantity off the lot size or below the minimum', () => {
    expect(limit({ quantity: '0.000015' })).toEqual([
      {
        field: 'quantity',
        code: RiskReasonCode.LotSizeMismatch,
        reason: "must be a multiple of BTC/USDT's lot size 0.00001",
      },
    ]);
    expect(limit({ quantity: '0.00009' })).toEqual([
      {
        field: 'quantity',
        code: RiskReasonCode.QuantityBelowMinimum,
        reason: "is below BTC/USDT's minimum quantity 0.0001",
      },
    ]);
    // A lot size that is not a power of ten.
    const lots = { ...venueBtc, stepSize: '0.025', minQuantity: '0' };
    expect(limit({ quantity: '0.075' }, lots)).toEqual([]);
    expect(limit({ quantity: '0.08' }, lots)[0]?.code).toBe(RiskReasonCode.LotSizeMismatch);
  });

  it('refuses a limit price off the tick, and keeps PRECISION_EXCEEDED for too many decimals', () => {
    expect(limit({ price: '64000.55' })).toEqual([
      {
        field: 'price',
        code: RiskReasonCode.TickSizeMismatch,
        reason: "must be a multiple of BTC/USDT's tick size 0.1",
      },
    ]);
    expect(limit({ price: '64000.555' })[0]?.code).toBe(RiskReasonCode.PrecisionExceeded);
    expect(limit({ price: '64000.50' })).toEqual([]);
    expect(limit({ price: '64000.5', quantity: '0.0000155' })).toEqual([
      expect.objectContaining({ field: 'quantity', code: RiskReasonCode.PrecisionExceeded }),
    ]);
  });

  it('refuses a limit order whose notional is below the minimum, at the exact boundary too', () => {
    const market = { ...venueBtc, minNotional: '10' };
    expect(limit({ quantity: '0.0001', price: '100000' }, market)).toEqual([]);
    expect(limit({ quantity: '0.0001', price: '99999.9' }, market)).toEqual([
      {
        field: 'quantity',
        code: RiskReasonCode.NotionalBelowMinimum,
        reason: "notional 9.99999 is below BTC/USDT's minimum 10",
      },
    ]);
    // No minimum: nothing to check.
    expect(limit({ quantity: '0.0001', price: '0.1' }, { ...market, minNotional: null })).toEqual([]);
    // A market order has no price here: risk values it at its reference price.
    expect(problems({ quantity: '0.0001' }, market)).toEqual([]);
  });

  it('reports each field once, the symbol’s or quantity’s problems first', () => {
    expect(limit({ quantity: '0.000015', price: '64000.55' }).map((p) => p.code)).toEqual([
      RiskReasonCode.LotSizeMismatch,
      RiskReasonCode.TickSizeMismatch,
    ]);
    expect(limit({ quantity: '0', price: '64000.55' }).map((p) => p.code)).toEqual([
      RiskReasonCode.QuantityNotPositive,
      RiskReasonCode.TickSizeMismatch,
    ]);
  });
});

describe('marketFilterProblems and notionalProblem', () => {
  it('leave missing and non-positive fields to the callers’ own checks', () => {
    expect(marketFilterProblems(order({ quantity: '0' }), venueBtc)).toEqual([]);
    expect(marketFilterProblems(order({ type: OrderType.Limit, price: '0' }), venueBtc)).toEqual([]);
  });

  it('values a notional exactly (decimals, never numbers)', () => {
    const market = { ...venueBtc, minNotional: '0.3' };
    expect(notionalProblem(market, money('0.1'), money('3'))).toBeUndefined();
    expect(notionalProblem(market, money('0.1'), money('2.9999999999'))?.code).toBe(
      RiskReasonCode.NotionalBelowMinimum,
    );
  });
});
