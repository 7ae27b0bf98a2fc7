import { findMarket } from './markets';
import { decimalPlaces, money } from './money';
import { OrderType, RiskReasonCode, type OrderParams } from './orders';

export interface OrderProblem {
  field: 'symbol' | 'quantity' | 'price';
  code: RiskReasonCode;
  reason: string;
}

/**
 * What is wrong with an order against its market, whoever checks it: the gateway answers 400 with these,
 * risk rejects with the same reason codes (an agent's or a forged intent never passed the gateway).
 */
export function orderMarketProblems(order: OrderParams, enabledSymbols: readonly string[]): OrderProblem[] {
  const market = findMarket(order.symbol, enabledSymbols);
  if (!market) {
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
  } else if (decimalPlaces(order.quantity) > market.quantityPrecision) {
    problems.push({
      field: 'quantity',
      code: RiskReasonCode.PrecisionExceeded,
      reason: `${market.symbol} allows at most ${market.quantityPrecision} decimals`,
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
    } else if (decimalPlaces(order.price) > market.pricePrecision) {
      problems.push({
        field: 'price',
        code: RiskReasonCode.PrecisionExceeded,
        reason: `${market.symbol} allows at most ${market.pricePrecision} decimals`,
      });
    }
  }
  return problems;
}
