import { describe, expect, it } from '@jest/globals';
import { OrderStatus, OrderType, TradingState, toWire } from '@desk/contracts';
import { book, ctx } from '../../../test/risk-context';
import { BASIC_RULES } from './basic-rules';
import { PRE_TRADE_RULES } from './limit-rules';
import { runChecks, type RiskDecision, type RiskRule } from './risk-rule';

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

describe('runChecks with every pre-trade rule', () => {
  it('accepts a market order and reports its notional at the last price', () => {
    expect(summary(runChecks(PRE_TRADE_RULES, ctx({ quantity: '0.5' })))).toEqual({
      status: 'ACCEPTED',
      notional: '32500',
      referencePrice: '65000',
      limit: '50000',
    });
  });

  it('values a limit order at its limit price', () => {
    const d = runChecks(PRE_TRADE_RULES, ctx({ type: OrderType.Limit, quantity: '0.1', price: '64000' }));
    expect(summary(d)).toEqual({
      status: 'ACCEPTED',
      notional: '6400',
      referencePrice: '64000',
      limit: '50000',
    });
  });

  it('reports the first failing rule in list order', () => {
    // Unknown symbol, zero quantity and no price at once: the symbol is reported.
    const d = runChecks(
      PRE_TRADE_RULES,
      ctx({ symbol: 'DOGE/USDT', quantity: '0' }, { lastPrice: undefined }),
    );
    expect(summary(d)).toEqual({ status: 'REJECTED', reasonCode: 'UNKNOWN_SYMBOL' });
    // Too many decimals and too large: precision comes first.
    expect(summary(runChecks(PRE_TRADE_RULES, ctx({ quantity: '10.1234567' })))).toEqual({
      status: 'REJECTED',
      reasonCode: 'PRECISION_EXCEEDED',
    });
    // Halted and too large: the desk's state is reported before the limits.
    const halted = { state: TradingState.Halted, reason: 'drill', source: 'kill' };
    expect(summary(runChecks(PRE_TRADE_RULES, ctx({ quantity: '10' }, { tradingState: halted })))).toEqual({
      status: 'REJECTED',
      reasonCode: 'TRADING_HALTED',
    });
    // No usable market price: never valued, so not a notional rejection.
    expect(summary(runChecks(PRE_TRADE_RULES, ctx({ quantity: '100' }, { lastPrice: undefined })))).toEqual({
      status: 'REJECTED',
      reasonCode: 'NO_MARKET_PRICE',
    });
    // Over the max notional and over the position limit: the notional is reported.
    expect(summary(runChecks(PRE_TRADE_RULES, ctx({ quantity: '1' }, { book: book([], '1000') })))).toEqual({
      status: 'REJECTED',
      reasonCode: 'MAX_NOTIONAL_EXCEEDED',
    });
  });

  it('lists the rules in the documented order', () => {
    expect(PRE_TRADE_RULES.map((r) => r.reasonCode)).toEqual([
      'UNKNOWN_SYMBOL',
      'SYMBOL_NOT_ALLOWED',
      'QUANTITY_NOT_POSITIVE',
      'PRICE_NOT_POSITIVE',
      'LIMIT_PRICE_MISSING',
      'PRECISION_EXCEEDED',
      'LOT_SIZE_MISMATCH',
      'QUANTITY_BELOW_MINIMUM',
      'TICK_SIZE_MISMATCH',
      'TRADING_HALTED',
      'REDUCE_ONLY',
      'MARKET_PRICE_INVALID',
      'NO_MARKET_PRICE',
      'NOTIONAL_BELOW_MINIMUM',
      'MAX_NOTIONAL_EXCEEDED',
      'PRICE_BAND_EXCEEDED',
      'SUBMIT_RATE_EXCEEDED',
      'MAX_ORDERS_PER_DAY',
      'MAX_OPEN_ORDERS',
      'DAILY_LOSS_LIMIT',
      'MAX_POSITION_EXCEEDED',
      'MAX_GROSS_EXPOSURE_EXCEEDED',
    ]);
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
