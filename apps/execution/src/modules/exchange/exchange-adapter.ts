import type { Money, OrderSide, OrderType } from '@desk/contracts';

export const EXCHANGE_ADAPTER = Symbol('EXCHANGE_ADAPTER');

/** An order as sent to a venue. The intent id is the client order id, so a venue can dedupe and be asked later. */
export interface ExchangeOrder {
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly type: OrderType;
  readonly quantity: Money;
  /** Limit price; null for market orders. */
  readonly price: Money | null;
}

export interface ExchangeFill {
  readonly price: Money;
  readonly quantity: Money;
  readonly fee: Money;
  readonly feeCurrency: string;
  readonly at: Date;
}

/** What a venue says about an order. Cancelled/unknown outcomes come with the cancel and reconcile issues. */
export type ExchangeOrderState =
  | { readonly state: 'open'; readonly detail: string }
  | { readonly state: 'filled'; readonly fill: ExchangeFill };

/**
 * The seam between the order lifecycle and a venue (paper now; testnet and live later).
 * Only full fills are reported for now.
 */
export interface ExchangeAdapter {
  /** Name stored in execution.orders.venue (the ccxt exchange id for a real venue). */
  readonly venue: string;
  /**
   * Whether orders placed here move real money. Then every order is critical (two-man rule) and nothing is
   * placed until two approvers have enabled live trading on this venue (risk.venues).
   */
  readonly live: boolean;
  placeOrder(order: ExchangeOrder): Promise<ExchangeOrderState>;
  /** The current state of an order already placed, looked up by its client order id. */
  fetchOrderByClientId(order: ExchangeOrder): Promise<ExchangeOrderState>;
  /** Takes a resting order off the venue (kill switch, halted or reducing desk). */
  cancelOrder(order: ExchangeOrder): Promise<void>;
}
