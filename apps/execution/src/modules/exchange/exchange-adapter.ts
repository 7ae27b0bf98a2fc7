import type { MarketSpec, Money, OrderSide, OrderType, RiskReasonCode, TimeInForce } from '@desk/contracts';

export const EXCHANGE_ADAPTER = Symbol('EXCHANGE_ADAPTER');

/** An order as sent to a venue. The client order id is derived from the intent id, so the venue can be asked later. */
export interface ExchangeOrder {
  /** The desk's order id (the intent id). */
  readonly id: string;
  /** The id the venue knows the order by (clientOrderIdFor: the intent id in a form every venue accepts). */
  readonly clientOrderId: string;
  /** The venue's own id, once it told us. */
  readonly venueOrderId: string | null;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly type: OrderType;
  readonly quantity: Money;
  /** Limit price; null for market orders. */
  readonly price: Money | null;
  readonly timeInForce: TimeInForce | null;
  readonly postOnly: boolean;
}

/** One execution at the venue: a trade. Its id is the venue's trade id (unique per venue). */
export interface ExchangeFill {
  readonly tradeId: string;
  readonly price: Money;
  readonly quantity: Money;
  readonly fee: Money;
  readonly feeCurrency: string;
  readonly at: Date;
}

/** Where an order stands at the venue. */
export type VenueOrderStatus = 'open' | 'filled' | 'cancelled' | 'expired' | 'rejected';

/**
 * What a venue says about one order: its status, how much has filled, and its trades. `fills` lists every
 * trade of the order the venue reports (execution records each trade id once, so a report repeating earlier
 * trades is harmless); they add up to `filledQuantity`.
 */
export interface VenueOrderReport {
  readonly venueOrderId: string | null;
  readonly status: VenueOrderStatus;
  readonly filledQuantity: Money;
  readonly fills: readonly ExchangeFill[];
  /** Why: the venue's words (e.g. "no market price yet", its cancel reason). Never a secret. */
  readonly detail?: string;
  /** For `rejected`: the mapped reason code. */
  readonly reasonCode?: RiskReasonCode;
}

/** An order the venue has open, as reconciliation lists them (ours carry our client order id). */
export interface VenueOpenOrder {
  readonly clientOrderId: string | null;
  readonly venueOrderId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly quantity: Money;
  readonly filledQuantity: Money;
}

/** A trade as reconciliation lists the account's recent trades. */
export interface VenueTrade extends ExchangeFill {
  readonly clientOrderId: string | null;
  readonly venueOrderId: string;
  readonly symbol: string;
  readonly side: OrderSide;
}

export interface VenueBalance {
  readonly asset: string;
  readonly free: Money;
  readonly used: Money;
  readonly total: Money;
}

/**
 * The seam between the order lifecycle and a venue (paper, or any ccxt exchange on its testnet or live).
 * Calls are never made inside a database transaction. Failures are VenueError (venue-error.ts): each says
 * whether the venue may have acted (placement outcome unknown: ask it by the client order id) or surely did
 * not (retry later, or a rejection with a reason code).
 */
export interface ExchangeAdapter {
  /** Name stored in execution.orders.venue (the ccxt exchange id for a real venue). */
  readonly venue: string;
  /**
   * Whether orders placed here move real money. Then every order is critical (two-man rule) and nothing is
   * placed until two approvers have enabled live trading on this venue (risk.venues).
   */
  readonly live: boolean;
  /** The venue's markets (symbols, tick and lot sizes, minimums). */
  loadMarkets(): Promise<MarketSpec[]>;
  /** Places an order under its client order id; the venue's answer about it. */
  placeOrder(order: ExchangeOrder): Promise<VenueOrderReport>;
  /**
   * An order already sent, looked up by its client order id (or venue id): undefined when the venue has no
   * such order (it never took it). `knownFilled` is what the desk has recorded: an adapter may skip fetching
   * trades when nothing more filled. `askedAt` is when the desk decided to ask (under the order's lock): a
   * simulated venue answers as of then, so nothing the market did after the desk's decision (after a halt
   * that followed it, say) fills the order on that lookup. A real venue ignores it.
   */
  fetchOrder(order: ExchangeOrder, knownFilled: Money, askedAt: Date): Promise<VenueOrderReport | undefined>;
  /**
   * Takes a working order off the venue; its state afterwards (it may have filled meanwhile). Undefined
   * when the venue has no such order.
   */
  cancelOrder(order: ExchangeOrder): Promise<VenueOrderReport | undefined>;
  /** Every open order on the account (reconciliation). */
  fetchOpenOrders(): Promise<VenueOpenOrder[]>;
  /** The account's trades since a time, in the given symbols (reconciliation). */
  fetchTrades(symbols: readonly string[], since: Date): Promise<VenueTrade[]>;
  fetchBalances(): Promise<VenueBalance[]>;
}
