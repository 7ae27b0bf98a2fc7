import { z } from 'zod';
import { SYMBOL_RE } from './markets';
import { unsignedDecimalString } from './money';
import { ServiceName } from './queues';

export enum OrderSide {
  Buy = 'buy',
  Sell = 'sell',
}

export enum OrderType {
  Market = 'market',
  Limit = 'limit',
}

/**
 * The order state machine (docs/architecture.md):
 * RECEIVED → ACCEPTED | REJECTED | PENDING_APPROVAL; ACCEPTED → SUBMITTED → OPEN → FILLED;
 * SUBMITTED/OPEN → CANCELLED | UNKNOWN; UNKNOWN → FILLED | CANCELLED (after reconciliation).
 */
export enum OrderStatus {
  Received = 'RECEIVED',
  Rejected = 'REJECTED',
  PendingApproval = 'PENDING_APPROVAL',
  Accepted = 'ACCEPTED',
  Submitted = 'SUBMITTED',
  Open = 'OPEN',
  Filled = 'FILLED',
  Cancelled = 'CANCELLED',
  Unknown = 'UNKNOWN',
}

/** Who owns an order while it is in a status: the only service that records (and publishes) moving into it. */
export type OrderOwner = ServiceName.Gateway | ServiceName.Risk | ServiceName.Execution;

/**
 * The order state machine: each status's owner and the statuses it may move to. Risk owns an order from
 * intent to decision, execution from placement to fill; the gateway only receives it and projects the rest.
 * docs/architecture.md draws the same graph (a test keeps them equal).
 */
export const ORDER_STATE_MACHINE: Readonly<
  Record<OrderStatus, { readonly owner: OrderOwner; readonly next: readonly OrderStatus[] }>
> = {
  [OrderStatus.Received]: {
    owner: ServiceName.Gateway,
    next: [OrderStatus.Rejected, OrderStatus.Accepted, OrderStatus.PendingApproval],
  },
  [OrderStatus.PendingApproval]: {
    owner: ServiceName.Risk,
    next: [OrderStatus.Accepted, OrderStatus.Rejected],
  },
  [OrderStatus.Accepted]: { owner: ServiceName.Risk, next: [OrderStatus.Submitted, OrderStatus.Cancelled] },
  [OrderStatus.Rejected]: { owner: ServiceName.Risk, next: [] },
  [OrderStatus.Submitted]: {
    owner: ServiceName.Execution,
    next: [OrderStatus.Filled, OrderStatus.Open, OrderStatus.Unknown, OrderStatus.Cancelled],
  },
  [OrderStatus.Open]: { owner: ServiceName.Execution, next: [OrderStatus.Filled, OrderStatus.Cancelled] },
  [OrderStatus.Unknown]: {
    owner: ServiceName.Execution,
    next: [OrderStatus.Open, OrderStatus.Filled, OrderStatus.Cancelled],
  },
  [OrderStatus.Filled]: { owner: ServiceName.Execution, next: [] },
  [OrderStatus.Cancelled]: { owner: ServiceName.Execution, next: [] },
};

export const TERMINAL_ORDER_STATUSES: readonly OrderStatus[] = [
  OrderStatus.Rejected,
  OrderStatus.Filled,
  OrderStatus.Cancelled,
];

/** Stable reason codes for risk outcomes; never rename a value (clients and audit records depend on them). */
export enum RiskReasonCode {
  QuantityNotPositive = 'QUANTITY_NOT_POSITIVE',
  PriceNotPositive = 'PRICE_NOT_POSITIVE',
  UnknownSymbol = 'UNKNOWN_SYMBOL',
  PrecisionExceeded = 'PRECISION_EXCEEDED',
  LimitPriceMissing = 'LIMIT_PRICE_MISSING',
  NoMarketPrice = 'NO_MARKET_PRICE',
  /** The last market price may not be used: zero, negative, not finite, or dated in the future. */
  MarketPriceInvalid = 'MARKET_PRICE_INVALID',
  /** The trader already has the maximum number of open (not yet final) orders. */
  MaxOpenOrders = 'MAX_OPEN_ORDERS',
  MaxNotionalExceeded = 'MAX_NOTIONAL_EXCEEDED',
  MaxPositionExceeded = 'MAX_POSITION_EXCEEDED',
  MaxGrossExposureExceeded = 'MAX_GROSS_EXPOSURE_EXCEEDED',
  DailyLossLimit = 'DAILY_LOSS_LIMIT',
  MaxOrdersPerDay = 'MAX_ORDERS_PER_DAY',
  SubmitRateExceeded = 'SUBMIT_RATE_EXCEEDED',
  PriceBandExceeded = 'PRICE_BAND_EXCEEDED',
  SymbolNotAllowed = 'SYMBOL_NOT_ALLOWED',
  ReduceOnly = 'REDUCE_ONLY',
  TradingHalted = 'TRADING_HALTED',
  /** Critical (two-man rule): the order waits in PENDING_APPROVAL. */
  ApprovalRequired = 'APPROVAL_REQUIRED',
  /** Execution found no valid approval record for a critical order. */
  ApprovalInvalid = 'APPROVAL_INVALID',
  /** An approver denied the order (final). */
  ApprovalDenied = 'APPROVAL_DENIED',
  /** Nobody approved it in time: it never executes. */
  ApprovalExpired = 'APPROVAL_EXPIRED',
  /** Execution: the venue failed to take the order (its status is UNKNOWN until reconciled). */
  VenueError = 'VENUE_ERROR',
  /** The venue trades real money and live trading on it has not been enabled by two approvers. */
  VenueNotLive = 'VENUE_NOT_LIVE',
}

/** The desk's trading state, owned by risk. */
export enum TradingState {
  Active = 'ACTIVE',
  /** Only orders that reduce exposure. */
  Reducing = 'REDUCING',
  /** Nothing new; cancels still pass. */
  Halted = 'HALTED',
}

export enum IntentSource {
  Operator = 'operator',
  Agent = 'agent',
  Webhook = 'webhook',
  Risk = 'risk',
}

/** The order parameters, as a client sends them and as every queue carries them. */
export const orderParamsSchema = z
  .object({
    symbol: z.string().max(21).regex(SYMBOL_RE, 'must look like "BTC/USDT"'),
    side: z.enum(OrderSide),
    type: z.enum(OrderType),
    quantity: unsignedDecimalString,
    price: unsignedDecimalString.optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.type === OrderType.Limit && o.price === undefined) {
      ctx.addIssue({ code: 'custom', path: ['price'], message: 'is required for limit orders' });
    }
    if (o.type === OrderType.Market && o.price !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['price'], message: 'must be omitted for market orders' });
    }
  });

export type OrderParams = z.infer<typeof orderParamsSchema>;
