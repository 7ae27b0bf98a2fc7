import { Money, OrderSide, OrderType, TimeInForce, money, type MarketSpec } from '@desk/contracts';

export interface PaperFillSettings {
  readonly slippageBps: number;
  readonly feeBps: number;
  readonly maxPriceAgeMs: number;
  /**
   * The liquidity the simulated book offers one order each time it is matched (quote currency): a larger
   * order fills in parts over several matches, like an order working through a thin book.
   */
  readonly liquidityNotional: Money;
}

export interface LastPrice {
  readonly price: Money;
  readonly at: Date;
}

/** The part of an order the paper book matches. */
export interface PaperOrderTerms {
  readonly side: OrderSide;
  readonly type: OrderType;
  /** Limit price; null for market orders. */
  readonly price: Money | null;
  readonly timeInForce: TimeInForce | null;
  /** What is left to fill. */
  readonly remaining: Money;
}

/** One match of an order against the simulated book. */
export type PaperMatch =
  /** Nothing fills now; a resting order keeps working. */
  | { readonly kind: 'wait'; readonly detail: string }
  /** A fill (possibly less than what remains). */
  | {
      readonly kind: 'fill';
      readonly price: Money;
      readonly quantity: Money;
      readonly fee: Money;
      readonly feeCurrency: string;
    }
  /** An IOC or FOK order that cannot (fully, for FOK) fill at once: what remains expires. */
  | { readonly kind: 'expire'; readonly detail: string };

const BPS = money('10000');
/** Wire decimals are limited to 18 places. */
const MAX_DECIMALS = 18;

/**
 * How the paper venue fills an order against the last market price. Market orders fill with slippage;
 * limit orders fill when the market reaches the limit, at the better price, without slippage. Each match
 * fills at most the liquidity on offer (so large orders fill in parts); IOC fills what it can at once and
 * the rest expires, FOK fills completely at once or expires. Without a fresh price nothing fills.
 */
export class PaperFillModel {
  constructor(private readonly settings: PaperFillSettings) {}

  match(order: PaperOrderTerms, market: MarketSpec, last: LastPrice | undefined, now: Date): PaperMatch {
    const immediate = order.timeInForce === TimeInForce.Ioc || order.timeInForce === TimeInForce.Fok;
    const nothing = (detail: string): PaperMatch =>
      immediate ? { kind: 'expire', detail } : { kind: 'wait', detail };
    if (!last) return nothing('no market price yet');
    if (now.getTime() - last.at.getTime() > this.settings.maxPriceAgeMs)
      return nothing('market price is stale');
    const raw = this.rawFillPrice(order, last.price);
    if (!raw) return nothing('limit price not reached');
    const price = this.roundAgainstTrader(raw, order.side, market.pricePrecision);
    const available = this.settings.liquidityNotional
      .dividedBy(price)
      .toNearest(money(market.stepSize), Money.ROUND_DOWN);
    if (order.timeInForce === TimeInForce.Fok && available.lt(order.remaining)) {
      return { kind: 'expire', detail: 'not enough liquidity to fill or kill' };
    }
    const quantity = Money.min(available, order.remaining);
    if (!quantity.gt(0)) return nothing('no liquidity at this price');
    return { kind: 'fill', price, quantity, fee: this.fee(price, quantity), feeCurrency: market.quote };
  }

  /** Would a limit order at this price take liquidity now (post-only orders must not)? */
  wouldTake(order: Pick<PaperOrderTerms, 'side' | 'type' | 'price'>, last: LastPrice | undefined): boolean {
    if (!last || order.type !== OrderType.Limit || !order.price) return false;
    return order.side === OrderSide.Buy ? last.price.lte(order.price) : last.price.gte(order.price);
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
  private rawFillPrice(order: PaperOrderTerms, last: Money): Money | undefined {
    switch (order.type) {
      case OrderType.Market: {
        const slip = last.times(this.settings.slippageBps).dividedBy(BPS);
        return order.side === OrderSide.Buy ? last.plus(slip) : last.minus(slip);
      }
      case OrderType.Limit: {
        if (!order.price) throw new Error('a limit order has no limit price');
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
