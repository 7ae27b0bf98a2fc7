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

/** How long a limit order works at the venue. Market orders take none (they fill or expire at once). */
export enum TimeInForce {
  /** Good till cancelled: rests until filled or cancelled (the default for limit orders). */
  Gtc = 'GTC',
  /** Immediate or cancel: fills what it can at once, the rest expires. */
  Ioc = 'IOC',
  /** Fill or kill: fills completely at once or not at all. */
  Fok = 'FOK',
}

/**
 * The order state machine (docs/architecture.md draws it; ORDER_STATE_MACHINE below is the source):
 * RECEIVED → ACCEPTED | REJECTED | PENDING_APPROVAL; ACCEPTED → SUBMITTED (recorded at execution) →
 * PLACING (committed before the venue is called) → OPEN | PARTIALLY_FILLED | FILLED | CANCELLED | EXPIRED |
 * VENUE_REJECTED | UNKNOWN; UNKNOWN is resolved by asking the venue by the client order id.
 */
export enum OrderStatus {
  Received = 'RECEIVED',
  Rejected = 'REJECTED',
  PendingApproval = 'PENDING_APPROVAL',
  Accepted = 'ACCEPTED',
  Submitted = 'SUBMITTED',
  /** Execution committed that it is placing the order; the venue call follows the commit. */
  Placing = 'PLACING',
  Open = 'OPEN',
  /** Some of the quantity has filled; the rest still works at the venue. */
  PartiallyFilled = 'PARTIALLY_FILLED',
  Filled = 'FILLED',
  /** Cancelled by the desk (operator, kill switch, halt) or by the venue; part of it may have filled. */
  Cancelled = 'CANCELLED',
  /** The venue ended it unfilled or part-filled (IOC/FOK remainder, a venue's expiry). */
  Expired = 'EXPIRED',
  /** The venue refused the order (reason code says why: insufficient funds, filters, post-only…). */
  VenueRejected = 'VENUE_REJECTED',
  /** The venue's answer was lost: execution asks the venue (by client order id) before anything else. */
  Unknown = 'UNKNOWN',
}

/** What a venue can answer to a placement. */
const VENUE_OUTCOMES: readonly OrderStatus[] = [
  OrderStatus.Open,
  OrderStatus.PartiallyFilled,
  OrderStatus.Filled,
  OrderStatus.Cancelled,
  OrderStatus.Expired,
  OrderStatus.VenueRejected,
  OrderStatus.Unknown,
];

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
    next: [OrderStatus.Placing, OrderStatus.Cancelled],
  },
  [OrderStatus.Placing]: { owner: ServiceName.Execution, next: VENUE_OUTCOMES },
  [OrderStatus.Open]: {
    owner: ServiceName.Execution,
    next: [
      OrderStatus.PartiallyFilled,
      OrderStatus.Filled,
      OrderStatus.Cancelled,
      OrderStatus.Expired,
      OrderStatus.Unknown,
    ],
  },
  [OrderStatus.PartiallyFilled]: {
    owner: ServiceName.Execution,
    // Each further partial fill is another PARTIALLY_FILLED event.
    next: [
      OrderStatus.PartiallyFilled,
      OrderStatus.Filled,
      OrderStatus.Cancelled,
      OrderStatus.Expired,
      OrderStatus.Unknown,
    ],
  },
  [OrderStatus.Unknown]: {
    owner: ServiceName.Execution,
    // PLACING again only when the venue has no order with our client order id.
    next: [OrderStatus.Placing, ...VENUE_OUTCOMES.filter((s) => s !== OrderStatus.Unknown)],
  },
  [OrderStatus.Filled]: { owner: ServiceName.Execution, next: [] },
  [OrderStatus.Cancelled]: { owner: ServiceName.Execution, next: [] },
  [OrderStatus.Expired]: { owner: ServiceName.Execution, next: [] },
  [OrderStatus.VenueRejected]: { owner: ServiceName.Execution, next: [] },
};

export const TERMINAL_ORDER_STATUSES: readonly OrderStatus[] = [
  OrderStatus.Rejected,
  OrderStatus.Filled,
  OrderStatus.Cancelled,
  OrderStatus.Expired,
  OrderStatus.VenueRejected,
];

/** Execution's statuses in which an order may still fill (the venue holds it or may hold it). */
export const WORKING_ORDER_STATUSES: readonly OrderStatus[] = [
  OrderStatus.Submitted,
  OrderStatus.Placing,
  OrderStatus.Open,
  OrderStatus.PartiallyFilled,
  OrderStatus.Unknown,
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
  /** The venue refused the order for a reason not mapped to a finer code (its message is the detail). */
  VenueRejected = 'VENUE_REJECTED',
  /** The venue refused the order: the account lacks the balance. */
  InsufficientFunds = 'INSUFFICIENT_FUNDS',
  /** The venue refused the order's parameters (its filters: tick, lot, minimum notional…). */
  VenueInvalidOrder = 'VENUE_INVALID_ORDER',
  /** A post-only order would have taken liquidity, so the venue refused it. */
  PostOnlyWouldTake = 'POST_ONLY_WOULD_TAKE',
  /** The venue refused our credentials or their permissions. */
  VenueAuthentication = 'VENUE_AUTHENTICATION',
  /** Quantity is not a multiple of the market's lot size (step). */
  LotSizeMismatch = 'LOT_SIZE_MISMATCH',
  /** Limit price is not a multiple of the market's tick size. */
  TickSizeMismatch = 'TICK_SIZE_MISMATCH',
  /** Quantity below the market's minimum. */
  QuantityBelowMinimum = 'QUANTITY_BELOW_MINIMUM',
  /** Notional below the market's minimum. */
  NotionalBelowMinimum = 'NOTIONAL_BELOW_MINIMUM',
  /** Time in force or post-only does not apply to this order (e.g. post-only on a market order). */
  OrderOptionInvalid = 'ORDER_OPTION_INVALID',
  /** An operator cancelled the order (the history names who). */
  CancelledByOperator = 'CANCELLED_BY_OPERATOR',
  /** The venue cancelled the order on its own. */
  CancelledByVenue = 'CANCELLED_BY_VENUE',
  /** The venue ended the order (IOC/FOK remainder, or its own expiry). */
  OrderExpired = 'ORDER_EXPIRED',
  /** Reconciliation found the venue's truth differs from the desk's book and applied the venue's. */
  Reconciled = 'RECONCILED',
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
    /** Limit orders only; GTC when omitted. */
    timeInForce: z.enum(TimeInForce).optional(),
    /** Limit GTC orders only: the venue must refuse the order rather than let it take liquidity. */
    postOnly: z.boolean().optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.type === OrderType.Market && o.timeInForce !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['timeInForce'], message: 'applies to limit orders only' });
    }
    if (o.postOnly && o.type !== OrderType.Limit) {
      ctx.addIssue({ code: 'custom', path: ['postOnly'], message: 'applies to limit orders only' });
    } else if (o.postOnly && (o.timeInForce ?? TimeInForce.Gtc) !== TimeInForce.Gtc) {
      ctx.addIssue({ code: 'custom', path: ['postOnly'], message: 'a post-only order rests: use GTC' });
    }
    if (o.type === OrderType.Limit && o.price === undefined) {
      ctx.addIssue({ code: 'custom', path: ['price'], message: 'is required for limit orders' });
    }
    if (o.type === OrderType.Market && o.price !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['price'], message: 'must be omitted for market orders' });
    }
  });

export type OrderParams = z.infer<typeof orderParamsSchema>;
