import { describe, expect, it } from '@jest/globals';
import { orderMarketProblems } from './order-rules';
import { OrderSide, OrderType, RiskReasonCode, type OrderParams } from './orders';

const enabled = ['BTC/USDT', 'ETH/USDT'];
const order = (o: Partial<OrderParams>): OrderParams => ({
  symbol: 'BTC/USDT',
  side: OrderSide.Buy,
  type: OrderType.Market,
  quantity: '0.01',
  ...o,
});

describe('orderMarketProblems', () => {
  it('accepts a well-formed order', () => {
    expect(orderMarketProblems(order({}), enabled)).toEqual([]);
    expect(orderMarketProblems(order({ type: OrderType.Limit, price: '64000.5' }), enabled)).toEqual([]);
  });

  it('refuses a symbol that is not enabled, even if the catalog knows it', () => {
    expect(orderMarketProblems(order({ symbol: 'SOL/USDT' }), enabled)).toEqual([
      expect.objectContaining({ field: 'symbol', code: RiskReasonCode.UnknownSymbol }),
    ]);
    expect(orderMarketProblems(order({ symbol: 'DOGE/USDT' }), enabled)[0]?.code).toBe(
      RiskReasonCode.UnknownSymbol,
    );
  });

  it('refuses zero quantity and too many decimals', () => {
    expect(orderMarketProblems(order({ quantity: '0' }), enabled)[0]?.code).toBe(
      RiskReasonCode.QuantityNotPositive,
    );
    expect(orderMarketProblems(order({ quantity: '0.0000001' }), enabled)).toEqual([
      {
        field: 'quantity',
        code: RiskReasonCode.PrecisionExceeded,
        reason: 'BTC/USDT allows at most 6 decimals',
      },
    ]);
  });

  it('checks the limit price', () => {
    const limit = (price?: string) => orderMarketProblems(order({ type: OrderType.Limit, price }), enabled);
    expect(limit(undefined)[0]?.code).toBe(RiskReasonCode.LimitPriceMissing);
    expect(limit('0')[0]?.code).toBe(RiskReasonCode.PriceNotPositive);
    expect(limit('100.123')[0]).toMatchObject({ field: 'price', code: RiskReasonCode.PrecisionExceeded });
  });
});
