import { describe, expect, it } from '@jest/globals';
import {
  MARKET_CATALOG,
  OrderType,
  RiskReasonCode,
  findMarket,
  money,
  toWire,
  type MarketSpec,
} from '@desk/contracts';
import { NOW, ctx, limits } from '../../../test/risk-context';
import {
  BASIC_RULES,
  limitPriceRequiredRule,
  lotSizeRule,
  marketPriceRule,
  maxNotionalRule,
  minNotionalRule,
  minQuantityRule,
  precisionRule,
  pricePositiveRule,
  quantityPositiveRule,
  symbolAllowlistRule,
  tickSizeRule,
  unknownSymbolRule,
} from './basic-rules';
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

describe('unknown symbol rule', () => {
  it('accepts an enabled catalog symbol', () => {
    expect(unknownSymbolRule.check(ctx({ symbol: 'ETH/USDT' }))).toBeUndefined();
  });

  it('rejects a symbol that is not in the catalog or not enabled (market not resolved)', () => {
    expect(wire(unknownSymbolRule.check(ctx({ symbol: 'DOGE/USDT' })))).toEqual({
      reasonCode: 'UNKNOWN_SYMBOL',
      reason: 'symbol DOGE/USDT is not traded here',
    });
    const disabled = ctx({ symbol: 'SOL/USDT' }, { market: findMarket('SOL/USDT', ['BTC/USDT']) });
    expect(unknownSymbolRule.check(disabled)?.reasonCode).toBe(RiskReasonCode.UnknownSymbol);
  });
});

describe('symbol allowlist rule', () => {
  it('accepts a symbol on the allowlist', () => {
    expect(symbolAllowlistRule.check(ctx({ symbol: 'ETH/USDT' }))).toBeUndefined();
  });

  it('rejects an enabled symbol that is not on the allowlist', () => {
    expect(wire(symbolAllowlistRule.check(ctx({ symbol: 'SOL/USDT' }, { allowlist: ['BTC/USDT'] })))).toEqual(
      {
        reasonCode: 'SYMBOL_NOT_ALLOWED',
        reason: 'symbol SOL/USDT is not on the allowlist (BTC/USDT)',
      },
    );
  });

  it('leaves an unknown symbol to the unknown symbol rule', () => {
    expect(
      symbolAllowlistRule.check(ctx({ symbol: 'DOGE/USDT' }, { allowlist: ['BTC/USDT'] })),
    ).toBeUndefined();
  });
});

describe('quantity rule', () => {
  it('accepts a positive quantity', () => {
    expect(quantityPositiveRule.check(ctx({ quantity: '0.000001' }))).toBeUndefined();
  });

  it('rejects zero', () => {
    expect(wire(quantityPositiveRule.check(ctx({ quantity: '0' })))).toEqual({
      reasonCode: 'QUANTITY_NOT_POSITIVE',
      reason: 'quantity 0 is not positive',
      measured: '0',
    });
  });

  it('rejects a negative quantity (the contract refuses it, the rule still holds)', () => {
    expect(quantityPositiveRule.check(ctx({ quantity: '-1' }))?.reason).toBe('quantity -1 is not positive');
  });
});

describe('price rule', () => {
  it('accepts a positive limit price and ignores market orders', () => {
    expect(pricePositiveRule.check(ctx({ type: OrderType.Limit, price: '0.01' }))).toBeUndefined();
    expect(pricePositiveRule.check(ctx({ type: OrderType.Market }))).toBeUndefined();
  });

  it('rejects a zero limit price', () => {
    expect(wire(pricePositiveRule.check(ctx({ type: OrderType.Limit, price: '0.00' })))).toEqual({
      reasonCode: 'PRICE_NOT_POSITIVE',
      reason: 'limit price 0 is not positive',
      measured: '0',
    });
  });
});

describe('limit price required rule', () => {
  it('accepts a limit order with a price and a market order without one', () => {
    expect(limitPriceRequiredRule.check(ctx({ type: OrderType.Limit, price: '100' }))).toBeUndefined();
    expect(limitPriceRequiredRule.check(ctx({ type: OrderType.Market }))).toBeUndefined();
  });

  it('rejects a limit order without a price', () => {
    expect(wire(limitPriceRequiredRule.check(ctx({ type: OrderType.Limit })))).toEqual({
      reasonCode: 'LIMIT_PRICE_MISSING',
      reason: 'a limit order needs a price',
    });
  });
});

describe('precision rule', () => {
  it('accepts quantity and price at exactly the market precision', () => {
    expect(
      precisionRule.check(ctx({ type: OrderType.Limit, quantity: '0.123456', price: '64000.12' })),
    ).toBeUndefined();
    expect(
      precisionRule.check(
        ctx({ symbol: 'SOL/USDT', type: OrderType.Limit, quantity: '1.25', price: '150.125' }),
      ),
    ).toBeUndefined();
  });

  it('rejects a quantity with more decimals than the market allows', () => {
    expect(wire(precisionRule.check(ctx({ quantity: '0.1234567' })))).toEqual({
      reasonCode: 'PRECISION_EXCEEDED',
      reason: 'quantity 0.1234567 has 7 decimals; BTC/USDT allows 6',
      limit: '6',
      measured: '7',
    });
  });

  it('rejects a price with more decimals than the market allows, trailing zeros included', () => {
    expect(
      wire(
        precisionRule.check(
          ctx({ symbol: 'ETH/USDT', type: OrderType.Limit, quantity: '1', price: '3200.100' }),
        ),
      ),
    ).toEqual({
      reasonCode: 'PRECISION_EXCEEDED',
      reason: 'price 3200.100 has 3 decimals; ETH/USDT allows 2',
      limit: '2',
      measured: '3',
    });
  });

  it('leaves an unknown symbol to the unknown symbol rule', () => {
    expect(precisionRule.check(ctx({ symbol: 'DOGE/USDT', quantity: '0.123456789' }))).toBeUndefined();
  });
});

describe('market price rule', () => {
  it('accepts an order with a last price up to the max age, inclusive', () => {
    expect(marketPriceRule.check(ctx({}))).toBeUndefined();
    const atLimit = { symbol: 'BTC/USDT', price: money('65000'), at: new Date(NOW.getTime() - 30_000) };
    expect(marketPriceRule.check(ctx({}, { lastPrice: atLimit }))).toBeUndefined();
  });

  it('rejects a market order and a limit order when there is no last price (the band needs one)', () => {
    expect(wire(marketPriceRule.check(ctx({}, { lastPrice: undefined })))).toEqual({
      reasonCode: 'NO_MARKET_PRICE',
      reason: 'no market price for BTC/USDT',
    });
    expect(
      marketPriceRule.check(ctx({ type: OrderType.Limit, price: '1' }, { lastPrice: undefined }))?.reasonCode,
    ).toBe('NO_MARKET_PRICE');
  });

  it('rejects a market order when the last price is too old', () => {
    const stale = { symbol: 'BTC/USDT', price: money('65000'), at: new Date(NOW.getTime() - 30_001) };
    expect(wire(marketPriceRule.check(ctx({}, { lastPrice: stale })))).toEqual({
      reasonCode: 'NO_MARKET_PRICE',
      reason: 'last price of BTC/USDT is 30001 ms old; max 30000 ms',
      limit: '30000',
      measured: '30001',
    });
  });
});

describe('max notional rule', () => {
  it('accepts a market order valued at the last price up to the max, inclusive', () => {
    expect(maxNotionalRule.check(ctx({ quantity: '0.5' }))).toBeUndefined();
    const exact = { symbol: 'BTC/USDT', price: money('50000'), at: NOW };
    expect(maxNotionalRule.check(ctx({ quantity: '1' }, { lastPrice: exact }))).toBeUndefined();
  });

  it('reads the max from the limits table values', () => {
    expect(
      maxNotionalRule.check(ctx({ quantity: '0.5' }, { limits: limits({ max_order_notional: '30000' }) }))
        ?.reasonCode,
    ).toBe('MAX_NOTIONAL_EXCEEDED');
  });

  it('rejects a market order over the max, with the numbers', () => {
    expect(wire(maxNotionalRule.check(ctx({ quantity: '1' })))).toEqual({
      reasonCode: 'MAX_NOTIONAL_EXCEEDED',
      reason: 'notional 65000.00 exceeds max 50000 (1 at market price 65000)',
      limit: '50000',
      notional: '65000',
      referencePrice: '65000',
    });
  });

  it('values a limit order at its limit price, not the market price', () => {
    const order = { type: OrderType.Limit, quantity: '2', price: '25000.01' };
    expect(wire(maxNotionalRule.check(ctx(order, { lastPrice: undefined })))).toEqual({
      reasonCode: 'MAX_NOTIONAL_EXCEEDED',
      reason: 'notional 50000.02 exceeds max 50000 (2 at limit price 25000.01)',
      limit: '50000',
      notional: '50000.02',
      referencePrice: '25000.01',
    });
    expect(maxNotionalRule.check(ctx({ ...order, price: '25000' }))).toBeUndefined();
  });

  it('shows the exact notional, never rounded down to the max', () => {
    const v = maxNotionalRule.check(
      ctx({ type: OrderType.Limit, quantity: '0.000001', price: '50000000000.01' }),
    );
    expect(v?.reason).toMatch(/^notional 50000\.00000001 exceeds max 50000 /);
  });

  it('leaves an order without a usable price to the market price rule', () => {
    expect(maxNotionalRule.check(ctx({ quantity: '100' }, { lastPrice: undefined }))).toBeUndefined();
  });
});

describe('BASIC_RULES', () => {
  it('run in the documented order', () => {
    expect(BASIC_RULES.map((r) => r.reasonCode)).toEqual([
      'UNKNOWN_SYMBOL',
      'SYMBOL_NOT_ALLOWED',
      'QUANTITY_NOT_POSITIVE',
      'PRICE_NOT_POSITIVE',
      'LIMIT_PRICE_MISSING',
      'PRECISION_EXCEEDED',
      'LOT_SIZE_MISMATCH',
      'QUANTITY_BELOW_MINIMUM',
      'TICK_SIZE_MISMATCH',
    ]);
  });

  it('cover every market in the catalog with a precision the rules can use', () => {
    for (const m of MARKET_CATALOG)
      expect(precisionRule.check(ctx({ symbol: m.symbol, quantity: '1' }))).toBeUndefined();
  });
});

describe('venue filter rules (the catalog’s tick, lot and minimums)', () => {
  const btc = findMarket('BTC/USDT') as MarketSpec;
  const venue: MarketSpec = {
    ...btc,
    tickSize: '0.5',
    stepSize: '0.001',
    minQuantity: '0.002',
    minNotional: '100',
  };
  const on = (order: Parameters<typeof ctx>[0], over: Parameters<typeof ctx>[1] = {}) =>
    ctx(order, { market: venue, ...over });

  it('lets an order on the venue’s filters through', () => {
    for (const rule of [lotSizeRule, minQuantityRule, tickSizeRule, minNotionalRule]) {
      expect(rule.check(on({ quantity: '0.005' }))).toBeUndefined();
      expect(rule.check(on({ type: OrderType.Limit, quantity: '0.005', price: '64000.5' }))).toBeUndefined();
    }
  });

  it('rejects a quantity off the lot size, or below the minimum', () => {
    expect(wire(lotSizeRule.check(on({ quantity: '0.0025' })))).toEqual({
      reasonCode: 'LOT_SIZE_MISMATCH',
      reason: "quantity 0.0025 must be a multiple of BTC/USDT's lot size 0.001",
      measured: '0.0025',
    });
    expect(lotSizeRule.check(on({ quantity: '0.001' }))).toBeUndefined();
    expect(wire(minQuantityRule.check(on({ quantity: '0.001' })))).toEqual({
      reasonCode: 'QUANTITY_BELOW_MINIMUM',
      reason: "quantity 0.001 is below BTC/USDT's minimum quantity 0.002",
      measured: '0.001',
    });
  });

  it('rejects a limit price off the tick', () => {
    expect(tickSizeRule.check(on({ type: OrderType.Limit, price: '64000.25' }))?.reasonCode).toBe(
      RiskReasonCode.TickSizeMismatch,
    );
    // Too many decimals is the precision rule's (its code, its figures).
    expect(tickSizeRule.check(on({ type: OrderType.Limit, price: '64000.255' }))).toBeUndefined();
  });

  it('values a market order’s notional at the last price, a limit order’s at its limit price', () => {
    // 0.002 × 65000 = 130 ≥ 100; at 45000 it is 90.
    expect(minNotionalRule.check(on({ quantity: '0.002' }))).toBeUndefined();
    const low = { symbol: 'BTC/USDT', price: money('45000'), at: new Date(NOW.getTime() - 1000) };
    expect(wire(minNotionalRule.check(on({ quantity: '0.002' }, { lastPrice: low })))).toEqual({
      reasonCode: 'NOTIONAL_BELOW_MINIMUM',
      reason: "notional 90 is below BTC/USDT's minimum 100 (0.002 at market price 45000)",
      limit: '100',
      notional: '90',
      referencePrice: '45000',
    });
    expect(
      minNotionalRule.check(on({ type: OrderType.Limit, quantity: '0.002', price: '49999.5' }))?.reasonCode,
    ).toBe(RiskReasonCode.NotionalBelowMinimum);
    // No fresh price: the price rules reject; no minimum: nothing to check.
    expect(minNotionalRule.check(on({ quantity: '0.002' }, { lastPrice: undefined }))).toBeUndefined();
    expect(
      minNotionalRule.check(
        ctx({ quantity: '0.002' }, { market: { ...venue, minNotional: null }, lastPrice: low }),
      ),
    ).toBeUndefined();
  });
});
