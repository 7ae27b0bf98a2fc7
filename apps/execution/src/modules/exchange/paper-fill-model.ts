import { Money, OrderSide, OrderType, money, type MarketSpec } from '@desk/contracts';
import type { ExchangeOrder, ExchangeOrderState } from './exchange-adapter';

export interface PaperFillSettings {
  readonly slippageBps: number;
  readonly feeBps: number;
  readonly maxPriceAgeMs: number;
}

export interface LastPrice {
  readonly price: Money;
  readonly at: Date;
}

const BPS = money('10000');
/** Wire decimals are limited to 18 places. */
const MAX_DECIMALS = 18;

/**
 * How the paper exchange fills an order against the last market price. Market orders fill at once with
 * slippage; limit orders rest until the market reaches the limit and fill at the better price, without
 * slippage. Fills are always full. Without a fresh price nothing fills.
 */
export class PaperFillModel {
  constructor(private readonly settings: PaperFillSettings) {}

  evaluate(
    order: ExchangeOrder,
    market: MarketSpec,
    last: LastPrice | undefined,
    now: Date,
  ): ExchangeOrderState {
    if (!last) return { state: 'open', detail: 'no market price yet' };
    if (now.getTime() - last.at.getTime() > this.settings.maxPriceAgeMs) {
      return { state: 'open', detail: 'market price is stale' };
    }
    const raw = this.rawFillPrice(order, last.price);
    if (!raw) return { state: 'open', detail: 'limit price not reached' };
    const price = this.roundAgainstTrader(raw, order.side, market.pricePrecision);
    return {
      state: 'filled',
      fill: {
        price,
        quantity: order.quantity,
        fee: this.fee(price, order.quantity),
        feeCurrency: market.quote,
        at: now,
      },
    };
  }

  /** Fee in the quote currency: notional × fee bps. */
  fee(price: Money, quantity: Money): Money {
    return price
      .times(quantity)
      .times(this.settings.feeBps)
      .dividedBy(BPS)
      .toDecimalPlaces(MAX_DECIMALS, Money.ROUND_HALF_EVEN);
  }

  /** Undefined when a limit order does not cross the market. */
  private rawFillPrice(order: ExchangeOrder, last: Money): Money | undefined {
    switch (order.type) {
      case OrderType.Market: {
        const slip = last.times(this.settings.slippageBps).dividedBy(BPS);
        return order.side === OrderSide.Buy ? last.plus(slip) : last.minus(slip);
      }
      case OrderType.Limit: {
        if (!order.price) throw new Error(`limit order ${order.clientOrderId} has no limit price`);
        const limit = order.price;
        if (order.side === OrderSide.Buy) return last.lte(limit) ? Money.min(last, limit) : undefined;
        return last.gte(limit) ? Money.max(last, limit) : undefined;
      }
      default: {
        const unreachable: never = order.type;
        throw new Error(`unknown order type ${String(unreachable)}`);
      }
    }
  }

  /** Rounding never works in the trader's favour: a buy rounds up, a sell rounds down. */
  private roundAgainstTrader(price: Money, side: OrderSide, decimals: number): Money {
    switch (side) {
      case OrderSide.Buy:
        return price.toDecimalPlaces(decimals, Money.ROUND_CEIL);
      case OrderSide.Sell:
        return price.toDecimalPlaces(decimals, Money.ROUND_FLOOR);
      default: {
        const unreachable: never = side;
        throw new Error(`unknown side ${String(unreachable)}`);
      }
    }
  }
}
