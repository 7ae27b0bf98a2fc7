import { describe, expect, it } from 'vitest';
import {
  OrderSide,
  OrderStatus,
  OrderType,
  findMarket,
  money,
  toWire,
  type OrderParams,
} from '@desk/contracts';
import { BASIC_RULES } from './basic-rules';
import { runChecks, type RiskContext, type RiskDecision, type RiskRule } from './risk-rule';

const NOW = new Date('2025-01-01T12:00:00.000Z');

function ctx(order: Partial<OrderParams>, over: Partial<RiskContext> = {}): RiskContext {
  const full: OrderParams = {
    symbol: 'BTC/USDT',
    side: OrderSide.Buy,
    type: OrderType.Market,
    quantity: '0.5',
    ...order,
  };
  return {
    order: full,
    market: findMarket(full.symbol),
    lastPrice: { symbol: full.symbol, price: money('65000'), at: NOW },
    limits: { maxOrderNotional: money('50000'), maxPriceAgeMs: 30_000 },
    now: NOW,
    ...over,
  };
}

function summary(d: RiskDecision): Record<string, string | undefined> {
  if (d.status === OrderStatus.Rejected) return { status: d.status, reasonCode: d.violation.reasonCode };
  const { notional, referencePrice, limit } = d.figures;
  return {
    status: d.status,
    notional: notional && toWire(notional),
    referencePrice: referencePrice && toWire(referencePrice),
    limit: limit && toWire(limit),
  };
}

describe('runChecks with the basic rules', () => {
  it('accepts a market order and reports its notional at the last price', () => {
    expect(summary(runChecks(BASIC_RULES, ctx({ quantity: '0.5' })))).toEqual({
      status: 'ACCEPTED',
      notional: '32500',
      referencePrice: '65000',
      limit: '50000',
    });
  });

  it('accepts a limit order valued at its limit price even without a market price', () => {
    const d = runChecks(
      BASIC_RULES,
      ctx({ type: OrderType.Limit, quantity: '2', price: '100.5' }, { lastPrice: undefined }),
    );
    expect(summary(d)).toEqual({
      status: 'ACCEPTED',
      notional: '201',
      referencePrice: '100.5',
      limit: '50000',
    });
  });

  it('reports the first failing rule in list order', () => {
    // Unknown symbol, zero quantity and no price at once: the symbol is reported.
    const d = runChecks(BASIC_RULES, ctx({ symbol: 'DOGE/USDT', quantity: '0' }, { lastPrice: undefined }));
    expect(summary(d)).toEqual({ status: 'REJECTED', reasonCode: 'UNKNOWN_SYMBOL' });
    // Too many decimals and too large: precision comes first.
    expect(summary(runChecks(BASIC_RULES, ctx({ quantity: '10.1234567' })))).toEqual({
      status: 'REJECTED',
      reasonCode: 'PRECISION_EXCEEDED',
    });
    // No usable market price: never valued, so not a notional rejection.
    expect(summary(runChecks(BASIC_RULES, ctx({ quantity: '100' }, { lastPrice: undefined })))).toEqual({
      status: 'REJECTED',
      reasonCode: 'NO_MARKET_PRICE',
    });
  });

  it('runs extra rules slotted into the list', () => {
    const halt: RiskRule = {
      reasonCode: BASIC_RULES[0]!.reasonCode,
      check: () => ({ reasonCode: BASIC_RULES[0]!.reasonCode, reason: 'halted' }),
    };
    const d = runChecks([...BASIC_RULES, halt], ctx({}));
    expect(d.status === OrderStatus.Rejected && d.violation.reason).toBe('halted');
  });
});
