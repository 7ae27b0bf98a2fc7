import {
  OrderType,
  RiskReasonCode,
  decimalPlaces,
  marketFilterProblems,
  money,
  notionalProblem,
  toWire,
  type Money,
} from '@desk/contracts';
import { LimitName } from '../state/limits';
import { priceAgeMs, referencePriceOf, type RiskRule } from './risk-rule';

/** Symbol enabled in TRADING_SYMBOLS and in the venue's catalog (resolved into ctx.market). */
export const unknownSymbolRule: RiskRule = {
  reasonCode: RiskReasonCode.UnknownSymbol,
  check: ({ order, market }) =>
    market
      ? undefined
      : { reasonCode: RiskReasonCode.UnknownSymbol, reason: `symbol ${order.symbol} is not traded here` },
};

/** Orders only in the symbols the desk allows (RISK_SYMBOL_ALLOWLIST; all enabled symbols by default). */
export const symbolAllowlistRule: RiskRule = {
  reasonCode: RiskReasonCode.SymbolNotAllowed,
  check: ({ order, market, allowlist }) =>
    !market || allowlist.includes(order.symbol)
      ? undefined
      : {
          reasonCode: RiskReasonCode.SymbolNotAllowed,
          reason: `symbol ${order.symbol} is not on the allowlist (${allowlist.join(', ') || 'empty'})`,
        },
};

export const quantityPositiveRule: RiskRule = {
  reasonCode: RiskReasonCode.QuantityNotPositive,
  check: ({ order }) => {
    const quantity = money(order.quantity);
    if (quantity.gt(0)) return undefined;
    return {
      reasonCode: RiskReasonCode.QuantityNotPositive,
      reason: `quantity ${toWire(quantity)} is not positive`,
      measured: quantity,
    };
  },
};

export const pricePositiveRule: RiskRule = {
  reasonCode: RiskReasonCode.PriceNotPositive,
  check: ({ order }) => {
    if (order.price === undefined) return undefined;
    const price = money(order.price);
    if (price.gt(0)) return undefined;
    return {
      reasonCode: RiskReasonCode.PriceNotPositive,
      reason: `limit price ${toWire(price)} is not positive`,
      measured: price,
    };
  },
};

export const limitPriceRequiredRule: RiskRule = {
  reasonCode: RiskReasonCode.LimitPriceMissing,
  check: ({ order }) =>
    order.type === OrderType.Limit && order.price === undefined
      ? { reasonCode: RiskReasonCode.LimitPriceMissing, reason: 'a limit order needs a price' }
      : undefined,
};

/** No more decimals than the exchange accepts for the market (trailing zeros count, as on the wire). */
export const precisionRule: RiskRule = {
  reasonCode: RiskReasonCode.PrecisionExceeded,
  check: ({ order, market }) => {
    if (!market) return undefined;
    const fields = [
      { name: 'quantity', value: order.quantity, allowed: market.quantityPrecision },
      { name: 'price', value: order.price, allowed: market.pricePrecision },
    ];
    for (const { name, value, allowed } of fields) {
      if (value === undefined) continue;
      const places = decimalPlaces(value);
      if (places <= allowed) continue;
      return {
        reasonCode: RiskReasonCode.PrecisionExceeded,
        reason: `${name} ${value} has ${places} decimals; ${market.symbol} allows ${allowed}`,
        limit: money(String(allowed)),
        measured: money(String(places)),
      };
    }
    return undefined;
  },
};

/**
 * One of the venue's filters (marketFilterProblems, the same check as the gateway's 400s). The venue would
 * refuse the order otherwise; risk refuses it first, with the same reason code.
 */
function marketFilterRule(
  reasonCode:
    RiskReasonCode.LotSizeMismatch | RiskReasonCode.QuantityBelowMinimum | RiskReasonCode.TickSizeMismatch,
): RiskRule {
  return {
    reasonCode,
    check: ({ order, market }) => {
      if (!market) return undefined;
      const problem = marketFilterProblems(order, market).find((p) => p.code === reasonCode);
      if (!problem) return undefined;
      const value = problem.field === 'price' ? order.price : order.quantity;
      return {
        reasonCode,
        reason: `${problem.field} ${value ?? ''} ${problem.reason}`.slice(0, 500),
        ...(value === undefined ? {} : { measured: money(value) }),
      };
    },
  };
}

/** The quantity is a multiple of the market's lot size (step). */
export const lotSizeRule = marketFilterRule(RiskReasonCode.LotSizeMismatch);
/** The quantity is at least the market's minimum. */
export const minQuantityRule = marketFilterRule(RiskReasonCode.QuantityBelowMinimum);
/** A limit price is a multiple of the market's tick size. */
export const tickSizeRule = marketFilterRule(RiskReasonCode.TickSizeMismatch);

/**
 * The order's notional at least the venue's minimum, valued at its reference price (a limit order's limit
 * price, as the gateway checked it; a market order's fresh last price). Passes without a reference price
 * (the price rules reject first).
 */
export const minNotionalRule: RiskRule = {
  reasonCode: RiskReasonCode.NotionalBelowMinimum,
  check: (ctx) => {
    const { market, order } = ctx;
    const ref = referencePriceOf(ctx);
    if (!market || !ref || market.minNotional === null) return undefined;
    const quantity = money(order.quantity);
    const problem = notionalProblem(market, quantity, ref.price);
    if (!problem) return undefined;
    return {
      reasonCode: problem.code,
      reason: `${problem.reason} (${order.quantity} at ${ref.source} price ${toWire(ref.price)})`,
      limit: money(market.minNotional),
      notional: quantity.times(ref.price),
      referencePrice: ref.price,
    };
  },
};

/**
 * The stored last price must be one that may be used at all. A price of zero values any order at nothing
 * (under every notional limit and the two-man threshold), a negative one less than that, and one dated in
 * the future passes the age check for longer than it should: each rejects the order, whatever its type
 * (a limit order's price band is judged against the same price).
 */
export const marketPriceValidRule: RiskRule = {
  reasonCode: RiskReasonCode.MarketPriceInvalid,
  check: ({ order, market, lastPriceProblem }) =>
    market && lastPriceProblem
      ? {
          reasonCode: RiskReasonCode.MarketPriceInvalid,
          reason: `last price of ${order.symbol} may not be used: ${lastPriceProblem}`.slice(0, 500),
        }
      : undefined,
};

/**
 * Every order needs a fresh last market price: a market order is valued at it, and a limit order's price is
 * checked against it (the fat-finger band). Its age runs from the venue's time of the price (the candle's),
 * not from when it was published.
 */
export const marketPriceRule: RiskRule = {
  reasonCode: RiskReasonCode.NoMarketPrice,
  check: ({ order, market, lastPrice, maxPriceAgeMs, now }) => {
    if (!market) return undefined;
    if (!lastPrice) {
      return { reasonCode: RiskReasonCode.NoMarketPrice, reason: `no market price for ${order.symbol}` };
    }
    const age = priceAgeMs(lastPrice, now);
    if (age <= maxPriceAgeMs) return undefined;
    return {
      reasonCode: RiskReasonCode.NoMarketPrice,
      reason: `last price of ${order.symbol} is ${age} ms old; max ${maxPriceAgeMs} ms`,
      limit: money(String(maxPriceAgeMs)),
      measured: money(String(age)),
    };
  },
};

export const maxNotionalRule: RiskRule = {
  reasonCode: RiskReasonCode.MaxNotionalExceeded,
  check: (ctx) => {
    const ref = referencePriceOf(ctx);
    if (!ref) return undefined;
    const notional = money(ctx.order.quantity).times(ref.price);
    const max = ctx.limits[LimitName.MaxOrderNotional];
    if (notional.lte(max)) return undefined;
    return {
      reasonCode: RiskReasonCode.MaxNotionalExceeded,
      reason:
        `notional ${showAmount(notional)} exceeds max ${toWire(max)} ` +
        `(${ctx.order.quantity} at ${ref.source} price ${toWire(ref.price)})`,
      limit: max,
      notional,
      referencePrice: ref.price,
    };
  },
};

/** At least two decimals ("65000.00") but never rounded, so a reason never shows a misleading amount. */
export function showAmount(value: Money): string {
  return value.decimalPlaces() < 2 ? value.toFixed(2) : toWire(value);
}

/** The basic pre-trade checks (is this a valid order at all), in the order their failures are reported. */
export const BASIC_RULES: readonly RiskRule[] = [
  unknownSymbolRule,
  symbolAllowlistRule,
  quantityPositiveRule,
  pricePositiveRule,
  limitPriceRequiredRule,
  precisionRule,
  lotSizeRule,
  minQuantityRule,
  tickSizeRule,
];
