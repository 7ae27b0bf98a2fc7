import type { MarketSpec } from './markets';
import { decimalPlaces, money, toWire, type Money } from './money';
import { OrderType, RiskReasonCode, type OrderParams } from './orders';

export interface OrderProblem {
  field: 'symbol' | 'quantity' | 'price';
  code: RiskReasonCode;
  reason: string;
}

/**
 * What is wrong with an order against its market, whoever checks it: the gateway answers 400 with these,
 * risk rejects with the same reason codes (an agent's or a forged intent never passed the gateway).
 *
 * `market` is the venue's market as the caller's catalog holds it (execution.market_catalog, read through
 * MarketCatalogService), undefined when the catalog has no such symbol; `enabledSymbols` is TRADING_SYMBOLS:
 * a symbol is traded only when it is both enabled and in the venue's catalog.
 *
 * Time in force and post-only are not checked here: the order schema (orderParamsSchema) is their one place,
 * and every order reaches this function through it.
 */
export function orderMarketProblems(
  order: OrderParams,
  market: MarketSpec | undefined,
  enabledSymbols: readonly string[],
): OrderProblem[] {
  if (!market || market.symbol !== order.symbol || !enabledSymbols.includes(order.symbol)) {
    return [
      {
        field: 'symbol',
        code: RiskReasonCode.UnknownSymbol,
        reason: `unknown symbol; known: ${enabledSymbols.join(', ')}`,
      },
    ];
  }
  const problems: OrderProblem[] = [];
  if (money(order.quantity).lte(0)) {
    problems.push({
      field: 'quantity',
      code: RiskReasonCode.QuantityNotPositive,
      reason: 'must be greater than 0',
    });
  }
  if (order.type === OrderType.Limit) {
    if (order.price === undefined) {
      problems.push({
        field: 'price',
        code: RiskReasonCode.LimitPriceMissing,
        reason: 'is required for limit orders',
      });
    } else if (money(order.price).lte(0)) {
      problems.push({
        field: 'price',
        code: RiskReasonCode.PriceNotPositive,
        reason: 'must be greater than 0',
      });
    }
  }
  // The venue's filters apply to the fields that are there and positive.
  const reported = new Set(problems.map((p) => p.field));
  problems.push(...marketFilterProblems(order, market).filter((p) => !reported.has(p.field)));
  return problems.sort((a, b) => FIELD_ORDER.indexOf(a.field) - FIELD_ORDER.indexOf(b.field));
}

const FIELD_ORDER: readonly OrderProblem['field'][] = ['symbol', 'quantity', 'price'];

/**
 * The venue's filters on an order of a known market, at most one problem per field: too many decimals
 * (PRECISION_EXCEEDED), a quantity off the lot size (LOT_SIZE_MISMATCH) or below the minimum
 * (QUANTITY_BELOW_MINIMUM), a limit price off the tick (TICK_SIZE_MISMATCH), and a limit order's notional
 * below the minimum (NOTIONAL_BELOW_MINIMUM, reported on the quantity). A market order's notional needs a
 * reference price: risk checks it with notionalProblem. Fields that are missing or not positive are left to
 * the callers' own checks. Decimal arithmetic only.
 */
export function marketFilterProblems(order: OrderParams, market: MarketSpec): OrderProblem[] {
  const problems: OrderProblem[] = [];
  const quantity = money(order.quantity);
  let quantityOk = false;
  if (quantity.gt(0)) {
    const problem = quantityProblem(order.quantity, quantity, market);
    if (problem) problems.push(problem);
    else quantityOk = true;
  }
  if (order.type === OrderType.Limit && order.price !== undefined) {
    const price = money(order.price);
    if (price.gt(0)) {
      const problem = priceProblem(order.price, price, market);
      if (problem) problems.push(problem);
      else if (quantityOk) {
        const notional = notionalProblem(market, quantity, price);
        if (notional) problems.push(notional);
      }
    }
  }
  return problems;
}

/** A notional (quantity × price, quote currency) below the market's minimum; none when the venue sets none. */
export function notionalProblem(market: MarketSpec, quantity: Money, price: Money): OrderProblem | undefined {
  if (market.minNotional === null) return undefined;
  const minimum = money(market.minNotional);
  const notional = quantity.times(price);
  if (notional.gte(minimum)) return undefined;
  return {
    field: 'quantity',
    code: RiskReasonCode.NotionalBelowMinimum,
    reason: `notional ${toWire(notional)} is below ${market.symbol}'s minimum ${toWire(minimum)}`,
  };
}

function quantityProblem(text: string, quantity: Money, market: MarketSpec): OrderProblem | undefined {
  if (decimalPlaces(text) > market.quantityPrecision) {
    return {
      field: 'quantity',
      code: RiskReasonCode.PrecisionExceeded,
      reason: `${market.symbol} allows at most ${market.quantityPrecision} decimals`,
    };
  }
  const step = money(market.stepSize);
  if (!quantity.mod(step).isZero()) {
    return {
      field: 'quantity',
      code: RiskReasonCode.LotSizeMismatch,
      reason: `must be a multiple of ${market.symbol}'s lot size ${toWire(step)}`,
    };
  }
  const minimum = money(market.minQuantity);
  if (quantity.lt(minimum)) {
    return {
      field: 'quantity',
      code: RiskReasonCode.QuantityBelowMinimum,
      reason: `is below ${market.symbol}'s minimum quantity ${toWire(minimum)}`,
    };
  }
  return undefined;
}

function priceProblem(text: string, price: Money, market: MarketSpec): OrderProblem | undefined {
  if (decimalPlaces(text) > market.pricePrecision) {
    return {
      field: 'price',
      code: RiskReasonCode.PrecisionExceeded,
      reason: `${market.symbol} allows at most ${market.pricePrecision} decimals`,
    };
  }
  const tick = money(market.tickSize);
  if (!price.mod(tick).isZero()) {
    return {
      field: 'price',
      code: RiskReasonCode.TickSizeMismatch,
      reason: `must be a multiple of ${market.symbol}'s tick size ${toWire(tick)}`,
    };
  }
  return undefined;
}
