import {
  OrderSide,
  OrderType,
  TradingState,
  findMarket,
  money,
  type Money,
  type OrderParams,
} from '@desk/contracts';
import type { RiskContext } from '../src/modules/checks/risk-rule';
import type { Book, SymbolBook } from '../src/modules/state/book';
import { LimitName, type RiskLimitValues } from '../src/modules/state/limits';
import { Position } from '../src/modules/state/position';

/** Fixtures for the rule specs: one snapshot, built from readable decimal strings. */
export const NOW = new Date('2025-01-01T12:00:00.000Z');

export const LIMITS: RiskLimitValues = {
  [LimitName.MaxOrderNotional]: money('50000'),
  [LimitName.MaxPositionShare]: money('0.5'),
  [LimitName.MaxGrossExposure]: money('200000'),
  [LimitName.DailyLossLimit]: money('5000'),
  [LimitName.MaxOrdersPerDay]: money('1000'),
  [LimitName.MaxSubmitRatePerSymbol]: money('60'),
  [LimitName.MaxSubmitRateTotal]: money('300'),
  [LimitName.PriceBand]: money('0.05'),
  [LimitName.MaxOpenOrders]: money('100'),
};

export interface HoldingSpec {
  symbol: string;
  quantity: string;
  averagePrice?: string;
  pendingBuy?: string;
  pendingSell?: string;
  mark?: string;
}

export function holding(h: HoldingSpec): SymbolBook {
  return {
    position: new Position(
      h.symbol,
      money(h.quantity),
      money(h.averagePrice ?? '0'),
      money('0'),
      money('0'),
      money(h.quantity).isZero() ? 0 : 1,
    ),
    pendingBuy: money(h.pendingBuy ?? '0'),
    pendingSell: money(h.pendingSell ?? '0'),
    mark: h.mark === undefined ? undefined : money(h.mark),
  };
}

export function book(holdings: HoldingSpec[] = [], equity = '100000', dayStartEquity = equity): Book {
  return {
    symbols: new Map(holdings.map((h) => [h.symbol, holding(h)])),
    equity: money(equity),
    dayStartEquity: money(dayStartEquity),
  };
}

export function limits(over: Partial<Record<LimitName, string>> = {}): RiskLimitValues {
  const out: Record<string, Money> = { ...LIMITS };
  for (const [k, v] of Object.entries(over)) out[k] = money(v);
  return out as RiskLimitValues;
}

/** A market buy of 0.5 BTC/USDT at a fresh 65000, desk ACTIVE, flat book, nothing submitted yet. */
export function ctx(order: Partial<OrderParams> = {}, over: Partial<RiskContext> = {}): RiskContext {
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
    allowlist: ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'],
    lastPrice: { symbol: full.symbol, price: money('65000'), at: new Date(NOW.getTime() - 1000) },
    maxPriceAgeMs: 30_000,
    limits: LIMITS,
    tradingState: { state: TradingState.Active, reason: 'initial state', source: 'initial' },
    book: book(),
    activity: { submitsLastMinuteSymbol: 0, submitsLastMinuteTotal: 0, ordersToday: 0, openOrdersOfActor: 0 },
    now: NOW,
    ...over,
  };
}
