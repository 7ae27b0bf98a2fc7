import type { Exchange, MarketInterface, Order, Trade } from 'ccxt';
import {
  Money,
  OrderSide,
  OrderType,
  RiskReasonCode,
  TimeInForce,
  decimalPlaces,
  money,
  type MarketSpec,
} from '@desk/contracts';
import type {
  ExchangeAdapter,
  ExchangeFill,
  ExchangeOrder,
  VenueBalance,
  VenueOpenOrder,
  VenueOrderReport,
  VenueOrderStatus,
  VenueTrade,
} from './exchange-adapter';
import { scrubText } from '@desk/platform';
import { VenueError } from './venue-error';

/** What the adapter needs to build its ccxt client (execution's config and secrets, already resolved). */
export interface CcxtVenueSettings {
  /** The ccxt exchange id, e.g. `binance`. */
  readonly exchangeId: string;
  /** testnet: ccxt's sandbox URLs (setSandboxMode); live: the venue's production URLs. */
  readonly mode: 'testnet' | 'live';
  readonly apiKey: string;
  readonly secret: string;
  /** Per-request timeout (ms). */
  readonly timeoutMs: number;
  /** The venue's receive window sent with signed requests (where the venue takes one, e.g. Binance). */
  readonly recvWindowMs: number;
  /**
   * Replaces the origin (scheme, host, port) of every API URL the client uses, keeping each path: for a
   * forwarding proxy, or the local stand-in venue the tests run. Unset in a normal deployment.
   */
  readonly apiUrl?: string | undefined;
}

/** The ccxt module's error classes this adapter maps (import('ccxt') gives them). */
type CcxtModule = typeof import('ccxt');

/**
 * Any ccxt exchange behind the desk's venue seam. ccxt's own rate limiter is on; its numbers become
 * decimals through ccxt's numberToString (the shortest decimal that round-trips its float, so the venue's
 * decimal string comes back exactly); amounts and prices go to ccxt as decimal strings (its precision
 * functions format strings without a float on the way; its typings say number). Errors are mapped to what
 * they mean for the order (venue-error.ts, docs/adr/0023).
 */
export class CcxtExchange implements ExchangeAdapter {
  readonly venue: string;
  readonly live: boolean;

  private constructor(
    private readonly ccxt: CcxtModule,
    private readonly client: Exchange,
    settings: CcxtVenueSettings,
  ) {
    this.venue = settings.exchangeId;
    this.live = settings.mode === 'live';
  }

  /** Loads ccxt (it is large: only when a real venue is configured) and builds the client. */
  static async create(settings: CcxtVenueSettings): Promise<CcxtExchange> {
    // Under CommonJS interop the namespace may arrive as the default export.
    const loaded = (await import('ccxt')) as CcxtModule & { default?: CcxtModule };
    const ccxt = typeof loaded.Exchange === 'function' ? loaded : (loaded.default ?? loaded);
    const Ctor = (ccxt as unknown as Record<string, unknown>)[settings.exchangeId];
    if (typeof Ctor !== 'function' || !(Ctor.prototype instanceof ccxt.Exchange)) {
      throw new Error(`ccxt has no exchange "${settings.exchangeId}"`);
    }
    const client = new (Ctor as new (config: Record<string, unknown>) => Exchange)({
      apiKey: settings.apiKey,
      secret: settings.secret,
      enableRateLimit: true,
      timeout: settings.timeoutMs,
      options: {
        defaultType: 'spot',
        // Spot only: no futures or margin endpoints are called (nor their permissions needed).
        fetchMarkets: { types: ['spot'] },
        fetchCurrencies: false,
        // Reconciliation lists every open order on the account, at the weight that costs.
        warnOnFetchOpenOrdersWithoutSymbol: false,
        adjustForTimeDifference: false,
        recvWindow: settings.recvWindowMs,
      },
    });
    if (settings.mode === 'testnet') client.setSandboxMode(true);
    if (settings.apiUrl) pointUrlsAt(client, settings.apiUrl);
    return new CcxtExchange(ccxt, client, settings);
  }

  async loadMarkets(): Promise<MarketSpec[]> {
    const markets = await this.call(() => this.client.loadMarkets(true), 'not-taken');
    return Object.values(markets)
      .filter((m): m is MarketInterface => m !== undefined && m.spot === true && m.active !== false)
      .map((m) => this.toSpec(m))
      .filter((m): m is MarketSpec => m !== undefined)
      .sort((a, b) => a.symbol.localeCompare(b.symbol));
  }

  async placeOrder(order: ExchangeOrder): Promise<VenueOrderReport> {
    const params: Record<string, unknown> = { clientOrderId: order.clientOrderId };
    // A post-only order is its own kind at most venues (Binance: LIMIT_MAKER, which refuses a timeInForce).
    if (order.postOnly) params.postOnly = true;
    else if (order.type === OrderType.Limit) params.timeInForce = order.timeInForce ?? TimeInForce.Gtc;
    const placed = await this.call(
      () =>
        this.client.createOrder(
          order.symbol,
          order.type,
          order.side,
          // Decimal strings: ccxt's amountToPrecision/priceToPrecision format them without a float.
          order.quantity.toFixed() as unknown as number,
          (order.price?.toFixed() ?? undefined) as unknown as number | undefined,
          params,
        ),
      'unknown',
    );
    return this.report(order, placed, money('0'));
  }

  async fetchOrder(order: ExchangeOrder, knownFilled: Money): Promise<VenueOrderReport | undefined> {
    const found = await this.lookup(order);
    return found && this.report(order, found, knownFilled);
  }

  async cancelOrder(order: ExchangeOrder): Promise<VenueOrderReport | undefined> {
    try {
      await this.call(
        () =>
          this.client.cancelOrder(order.venueOrderId ?? '', order.symbol, {
            ...(order.venueOrderId ? {} : { clientOrderId: order.clientOrderId }),
          }),
        'unknown',
      );
    } catch (error) {
      // Already final at the venue (filled or cancelled meanwhile), or never there: what it says now.
      if (!(error instanceof VenueError && error.kind === 'rejected')) throw error;
    }
    return this.fetchOrder(order, money('0'));
  }

  async fetchOpenOrders(): Promise<VenueOpenOrder[]> {
    const open = await this.call(() => this.client.fetchOpenOrders(), 'not-taken');
    return open.map((o) => ({
      clientOrderId: o.clientOrderId ?? null,
      venueOrderId: String(o.id),
      symbol: String(o.symbol),
      side: o.side === 'sell' ? OrderSide.Sell : OrderSide.Buy,
      quantity: this.decimal(o.amount),
      filledQuantity: this.decimal(o.filled),
    }));
  }

  async fetchTrades(symbols: readonly string[], since: Date): Promise<VenueTrade[]> {
    const out: VenueTrade[] = [];
    for (const symbol of symbols) {
      const trades = await this.call(
        () => this.client.fetchMyTrades(symbol, since.getTime(), 1000),
        'not-taken',
      );
      for (const t of trades) {
        out.push({
          ...this.toFill(t),
          clientOrderId: clientOrderIdOf(t),
          venueOrderId: t.order ?? '',
          symbol: t.symbol ?? symbol,
          side: t.side === 'sell' ? OrderSide.Sell : OrderSide.Buy,
        });
      }
    }
    return out;
  }

  async fetchBalances(): Promise<VenueBalance[]> {
    const balance = await this.call(() => this.client.fetchBalance(), 'not-taken');
    const totals = (balance.total ?? {}) as unknown as Record<string, number | undefined>;
    const free = (balance.free ?? {}) as unknown as Record<string, number | undefined>;
    const used = (balance.used ?? {}) as unknown as Record<string, number | undefined>;
    return Object.keys(totals)
      .sort()
      .map((asset) => ({
        asset,
        total: this.decimal(totals[asset]),
        free: this.decimal(free[asset]),
        used: this.decimal(used[asset]),
      }))
      .filter((b) => !b.total.isZero() || !b.used.isZero());
  }

  /** The order at the venue by its id, or by our client order id; undefined when the venue has none. */
  private async lookup(order: ExchangeOrder): Promise<Order | undefined> {
    try {
      return await this.call(
        () =>
          this.client.fetchOrder(order.venueOrderId ?? '', order.symbol, {
            ...(order.venueOrderId ? {} : { clientOrderId: order.clientOrderId }),
          }),
        'not-taken',
      );
    } catch (error) {
      if (error instanceof VenueError && error.kind === 'rejected' && error.message.startsWith('not found'))
        return undefined;
      throw error;
    }
  }

  /** A ccxt order as the desk's report; its trades are fetched only when more has filled than we know. */
  private async report(order: ExchangeOrder, o: Order, knownFilled: Money): Promise<VenueOrderReport> {
    const filled = this.decimal(o.filled);
    const status = statusOf(o);
    let fills: ExchangeFill[] = [];
    const venueOrderId = o.id ? String(o.id) : null;
    if (filled.gt(knownFilled) && venueOrderId) {
      const trades = this.client.has.fetchOrderTrades
        ? await this.call(() => this.client.fetchOrderTrades(venueOrderId, order.symbol), 'not-taken')
        : (await this.call(() => this.client.fetchMyTrades(order.symbol), 'not-taken')).filter(
            (t) => t.order === venueOrderId,
          );
      fills = trades.map((t) => this.toFill(t));
    }
    return {
      venueOrderId,
      status,
      filledQuantity: filled,
      fills,
      ...(status === 'rejected' ? { reasonCode: RiskReasonCode.VenueRejected } : {}),
      ...(o.status ? { detail: `venue status ${o.status}` } : {}),
    };
  }

  private toFill(t: Trade): ExchangeFill {
    return {
      tradeId: String(t.id),
      price: this.decimal(t.price),
      quantity: this.decimal(t.amount),
      fee: this.decimal(t.fee?.cost),
      feeCurrency: t.fee?.currency ?? '',
      at: new Date(t.timestamp ?? Date.now()),
    };
  }

  private toSpec(m: MarketInterface): MarketSpec | undefined {
    const tick = this.precisionStep(m.precision.price);
    const step = this.precisionStep(m.precision.amount);
    if (!tick || !step) return undefined;
    const minQuantity = m.limits.amount?.min;
    const minNotional = m.limits.cost?.min;
    return {
      symbol: m.symbol,
      base: m.base,
      quote: m.quote,
      tickSize: tick.toFixed(),
      stepSize: step.toFixed(),
      minQuantity: minQuantity ? this.decimal(minQuantity).toFixed() : step.toFixed(),
      minNotional: minNotional ? this.decimal(minNotional).toFixed() : null,
      pricePrecision: decimalPlaces(tick.toFixed()),
      quantityPrecision: decimalPlaces(step.toFixed()),
    };
  }

  /** A market's precision as its increment, whichever way the exchange counts it. */
  private precisionStep(precision: number | undefined): Money | undefined {
    if (precision === undefined) return undefined;
    switch (this.client.precisionMode) {
      case TICK_SIZE:
        return this.decimal(precision);
      case DECIMAL_PLACES:
        return new Money(10).pow(-precision);
      default:
        // Significant digits give no fixed increment: such a market is not offered.
        return undefined;
    }
  }

  private decimal(value: number | string | undefined | null): Money {
    if (value === undefined || value === null) return money('0');
    return money(numberToString(this.client, value));
  }

  /** Runs a ccxt call, mapping its errors (`otherwise`: what an unclassified failure means here). */
  private async call<T>(work: () => Promise<T>, otherwise: 'unknown' | 'not-taken'): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw mapCcxtError(this.ccxt, error, otherwise);
    }
  }
}

function numberToString(client: Exchange, value: number | string): string {
  return String(client.numberToString(value) ?? value);
}

/** ccxt's precision modes (ccxt/js/src/base/functions/number: DECIMAL_PLACES = 2, TICK_SIZE = 4). */
const DECIMAL_PLACES = 2;
const TICK_SIZE = 4;

function statusOf(o: Order): VenueOrderStatus {
  switch (o.status) {
    case 'closed':
      return 'filled';
    case 'canceled':
    case 'cancelled':
      return 'cancelled';
    case 'expired':
      return 'expired';
    case 'rejected':
      return 'rejected';
    default:
      return 'open';
  }
}

function clientOrderIdOf(t: Trade): string | null {
  const info = t.info as Record<string, unknown> | undefined;
  const id = info?.clientOrderId;
  return typeof id === 'string' ? id : null;
}

/**
 * Each ccxt error class as what it means for an order (docs/adr/0023):
 * - the venue refused the request and holds nothing → `rejected` with a reason code (order not found is
 *   reported as a rejection whose message starts "not found": callers treat it as "no such order");
 * - rate limits (ccxt raises RateLimitExceeded or DDoSProtection: 429/418 answers), maintenance, a request
 *   refused for its timestamp → `not-taken` (back off and retry);
 * - timeouts, lost connections, 5xx answers, anything unclassified → `unknown` (ask the venue again by the
 *   client order id before any retry) for a placement; `not-taken` for a read.
 * The venue's message is kept (ccxt puts the exchange id and the venue's JSON there: no secrets).
 */
export function mapCcxtError(
  ccxt: CcxtModule,
  error: unknown,
  otherwise: 'unknown' | 'not-taken',
): VenueError {
  if (error instanceof VenueError) return error;
  // ccxt's messages carry the venue's answer and, for network errors, the request's URL: a venue that takes
  // its key in the query would put it there. The message goes to the order's history and the audit log, so
  // every loaded secret value is masked first.
  const message = scrubText(error instanceof Error ? error.message : String(error)).slice(0, 300);
  const reject = (code: RiskReasonCode) => new VenueError('rejected', message, code);
  if (error instanceof ccxt.OrderNotFound) return new VenueError('rejected', `not found: ${message}`);
  // A second order with our client order id: the venue has the first; ask it. (Binance answers -2010
  // "Duplicate order sent.", which ccxt raises as a plain InvalidOrder.)
  if (
    error instanceof ccxt.DuplicateOrderId ||
    (error instanceof ccxt.InvalidOrder && /duplicate/i.test(message))
  )
    return new VenueError('unknown', message);
  if (error instanceof ccxt.OrderImmediatelyFillable) return reject(RiskReasonCode.PostOnlyWouldTake);
  if (error instanceof ccxt.InsufficientFunds) return reject(RiskReasonCode.InsufficientFunds);
  if (error instanceof ccxt.BadSymbol) return reject(RiskReasonCode.UnknownSymbol);
  if (
    error instanceof ccxt.InvalidOrder ||
    error instanceof ccxt.BadRequest ||
    error instanceof ccxt.ArgumentsRequired
  )
    return reject(RiskReasonCode.VenueInvalidOrder);
  if (error instanceof ccxt.AuthenticationError) return reject(RiskReasonCode.VenueAuthentication);
  if (error instanceof ccxt.NotSupported || error instanceof ccxt.OperationRejected)
    return reject(RiskReasonCode.VenueRejected);
  if (
    error instanceof ccxt.RateLimitExceeded ||
    error instanceof ccxt.DDoSProtection ||
    error instanceof ccxt.OnMaintenance ||
    error instanceof ccxt.InvalidNonce
  )
    return new VenueError('not-taken', message);
  // RequestTimeout, ExchangeNotAvailable (a 5xx may follow a processed request), NetworkError, the rest.
  return new VenueError(otherwise, message);
}

/** Points every API URL of the client at `apiUrl`'s origin, keeping each URL's path. */
function pointUrlsAt(client: Exchange, apiUrl: string): void {
  const origin = new URL(apiUrl).origin;
  const rewrite = (value: unknown): unknown => {
    if (typeof value === 'string' && /^https?:\/\//.test(value)) {
      const url = new URL(value);
      return `${origin}${url.pathname}`.replace(/\/$/, '');
    }
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v)]));
    }
    return value;
  };
  const urls = client.urls as Record<string, unknown>;
  urls.api = rewrite(urls.api);
}
