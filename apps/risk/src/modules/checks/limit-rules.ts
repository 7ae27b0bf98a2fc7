import { Money, OrderSide, OrderType, RiskReasonCode, TradingState, money, toWire } from '@desk/contracts';
import { grossExposure, reducesPosition, symbolOf, withOrder, worstCaseQuantity } from '../state/book';
import { LimitName } from '../state/limits';
import {
  BASIC_RULES,
  marketPriceRule,
  marketPriceValidRule,
  maxNotionalRule,
  minNotionalRule,
  showAmount,
} from './basic-rules';
import { freshLastPrice, referencePriceOf, type RiskContext, type RiskRule } from './risk-rule';

/** Ratios in reasons and audit payloads: 8 decimals, rounded up (never shown at or under a limit it exceeds). */
function ratio(value: Money): Money {
  return value.toDecimalPlaces(8, Money.ROUND_UP);
}

/** Does this order reduce its symbol's position (other side, never through zero with pending orders)? */
export function orderReduces(ctx: RiskContext): boolean {
  const { order, book } = ctx;
  return reducesPosition(symbolOf(book, order.symbol), order.side, money(order.quantity));
}

/** HALTED: nothing new. (Risk's own reduce-only closing orders do not pass through these rules.) */
export const tradingHaltedRule: RiskRule = {
  reasonCode: RiskReasonCode.TradingHalted,
  check: ({ tradingState }) =>
    tradingState.state === TradingState.Halted
      ? {
          reasonCode: RiskReasonCode.TradingHalted,
          reason: `trading is halted (${tradingState.source}: ${tradingState.reason})`.slice(0, 500),
        }
      : undefined,
};

/** REDUCING: only orders that reduce a position. */
export const reduceOnlyRule: RiskRule = {
  reasonCode: RiskReasonCode.ReduceOnly,
  check: (ctx) => {
    if (ctx.tradingState.state !== TradingState.Reducing || orderReduces(ctx)) return undefined;
    const s = symbolOf(ctx.book, ctx.order.symbol);
    const pending = ctx.order.side === OrderSide.Buy ? s.pendingBuy : s.pendingSell;
    return {
      reasonCode: RiskReasonCode.ReduceOnly,
      reason:
        `trading is reducing (${ctx.tradingState.source}): only orders that reduce a position pass; ` +
        `position ${toWire(s.position.quantity)} ${ctx.order.symbol}, pending ${ctx.order.side} ${toWire(pending)}`,
      measured: s.position.quantity,
    };
  },
};

/**
 * Fat finger: a limit price may not be more than the band through the last market price on the side where
 * it would trade at once (a buy above the market, a sell below it). A passive limit far from the market is
 * a resting order, not a typo that trades; market orders trade at the market by definition.
 */
export const priceBandRule: RiskRule = {
  reasonCode: RiskReasonCode.PriceBandExceeded,
  check: (ctx) => {
    const { order } = ctx;
    const last = freshLastPrice(ctx);
    if (order.type !== OrderType.Limit || order.price === undefined || !last || last.price.lte(0))
      return undefined;
    const limitPrice = money(order.price);
    const through =
      order.side === OrderSide.Buy ? limitPrice.minus(last.price) : last.price.minus(limitPrice);
    const deviation = through.dividedBy(last.price);
    const band = ctx.limits[LimitName.PriceBand];
    if (deviation.lte(band)) return undefined;
    return {
      reasonCode: RiskReasonCode.PriceBandExceeded,
      reason:
        `limit ${order.side} at ${order.price} is ${toWire(ratio(deviation))} through the last price ` +
        `${toWire(last.price)}; band ${toWire(band)}`,
      limit: band,
      measured: ratio(deviation),
      referencePrice: last.price,
    };
  },
};

/** Orders per minute, in the symbol and overall (a runaway agent or a stuck retry loop). */
export const submitRateRule: RiskRule = {
  reasonCode: RiskReasonCode.SubmitRateExceeded,
  check: ({ order, limits, activity }) => {
    const checks = [
      {
        what: `in ${order.symbol}`,
        count: activity.submitsLastMinuteSymbol + 1,
        max: limits[LimitName.MaxSubmitRatePerSymbol],
      },
      {
        what: 'in all symbols',
        count: activity.submitsLastMinuteTotal + 1,
        max: limits[LimitName.MaxSubmitRateTotal],
      },
    ];
    for (const { what, count, max } of checks) {
      if (max.gte(count)) continue;
      return {
        reasonCode: RiskReasonCode.SubmitRateExceeded,
        reason: `${count} orders ${what} within a minute; max ${toWire(max)} per minute`,
        limit: max,
        measured: money(String(count)),
      };
    }
    return undefined;
  },
};

export const maxOrdersPerDayRule: RiskRule = {
  reasonCode: RiskReasonCode.MaxOrdersPerDay,
  check: ({ limits, activity }) => {
    const count = activity.ordersToday + 1;
    const max = limits[LimitName.MaxOrdersPerDay];
    if (max.gte(count)) return undefined;
    return {
      reasonCode: RiskReasonCode.MaxOrdersPerDay,
      reason: `this would be order ${count} today; max ${toWire(max)} per day`,
      limit: max,
      measured: money(String(count)),
    };
  },
};

/**
 * Open orders per trader: every order of the same actor that is not final yet (held for approval, accepted
 * and not yet filled or cancelled) counts, this one included. A trader cannot fill the book with resting
 * orders (each one is looked at on every execution tick). Risk's own closing orders never count.
 */
export const maxOpenOrdersRule: RiskRule = {
  reasonCode: RiskReasonCode.MaxOpenOrders,
  check: ({ limits, activity }) => {
    const count = activity.openOrdersOfActor + 1;
    const max = limits[LimitName.MaxOpenOrders];
    if (max.gte(count)) return undefined;
    return {
      reasonCode: RiskReasonCode.MaxOpenOrders,
      reason: `this would be open order ${count} of this trader; max ${toWire(max)} open orders`,
      limit: max,
      measured: money(String(count)),
    };
  },
};

/** Loss since the day began (realized + unrealized): once it reaches the limit, only reducing orders pass. */
export const dailyLossRule: RiskRule = {
  reasonCode: RiskReasonCode.DailyLossLimit,
  check: (ctx) => {
    const { book, limits } = ctx;
    const loss = book.dayStartEquity.minus(book.equity);
    const max = limits[LimitName.DailyLossLimit];
    if (!loss.gt(0) || loss.lt(max) || orderReduces(ctx)) return undefined;
    return {
      reasonCode: RiskReasonCode.DailyLossLimit,
      reason:
        `loss today ${showAmount(loss)} (equity ${showAmount(book.equity)} from ${showAmount(book.dayStartEquity)} ` +
        `at the start of the day) has reached the limit ${toWire(max)}; only reducing orders pass`,
      limit: max,
      measured: loss,
    };
  },
};

/**
 * The symbol's worst-case position (every pending order on the order's side filled, this one included),
 * valued at the order's price, may not exceed the share of equity. An order that does not enlarge the
 * worst case always passes, so a position over the limit can still be reduced.
 */
export const maxPositionRule: RiskRule = {
  reasonCode: RiskReasonCode.MaxPositionExceeded,
  check: (ctx) => {
    const ref = referencePriceOf(ctx);
    if (!ref) return undefined;
    const s = symbolOf(ctx.book, ctx.order.symbol);
    const after = withOrder(s, ctx.order.side, money(ctx.order.quantity));
    const quantity = worstCaseQuantity(after);
    if (quantity.lte(worstCaseQuantity(s))) return undefined;
    const value = quantity.times(ref.price);
    const share = ctx.limits[LimitName.MaxPositionShare];
    const cap = Money.max(ctx.book.equity, 0).times(share);
    if (value.lte(cap)) return undefined;
    return {
      reasonCode: RiskReasonCode.MaxPositionExceeded,
      reason:
        `position in ${ctx.order.symbol} could reach ${toWire(quantity)} (${showAmount(value)}), over ` +
        `${toWire(share)} of equity ${showAmount(ctx.book.equity)} = ${showAmount(cap)}`,
      limit: cap,
      measured: value,
      notional: money(ctx.order.quantity).times(ref.price),
      referencePrice: ref.price,
    };
  },
};

/** Gross exposure (sum of worst-case |position| x price over symbols) may not exceed the limit. */
export const maxGrossExposureRule: RiskRule = {
  reasonCode: RiskReasonCode.MaxGrossExposureExceeded,
  check: (ctx) => {
    const ref = referencePriceOf(ctx);
    if (!ref) return undefined;
    const s = symbolOf(ctx.book, ctx.order.symbol);
    const after = withOrder(s, ctx.order.side, money(ctx.order.quantity));
    if (worstCaseQuantity(after).lte(worstCaseQuantity(s))) return undefined;
    const gross = grossExposure(ctx.book, { symbol: ctx.order.symbol, book: after, price: ref.price });
    const max = ctx.limits[LimitName.MaxGrossExposure];
    if (gross.lte(max)) return undefined;
    return {
      reasonCode: RiskReasonCode.MaxGrossExposureExceeded,
      reason: `gross exposure could reach ${showAmount(gross)}; max ${toWire(max)}`,
      limit: max,
      measured: gross,
      notional: money(ctx.order.quantity).times(ref.price),
      referencePrice: ref.price,
    };
  },
};

/**
 * Every pre-trade check, in the order failures are reported: is it a valid order at all, may the desk
 * trade it now (state), is it priced sanely, is it too fast or too many, and would it breach the loss and
 * exposure limits. The two-man rule comes after all of them (an order that fails a check is never held).
 */
export const PRE_TRADE_RULES: readonly RiskRule[] = [
  ...BASIC_RULES,
  tradingHaltedRule,
  reduceOnlyRule,
  marketPriceValidRule,
  marketPriceRule,
  minNotionalRule,
  maxNotionalRule,
  priceBandRule,
  submitRateRule,
  maxOrdersPerDayRule,
  maxOpenOrdersRule,
  dailyLossRule,
  maxPositionRule,
  maxGrossExposureRule,
];
