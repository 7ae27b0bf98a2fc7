import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Decimal from 'decimal.js';

/**
 * A local stand-in for Binance spot's REST API (no exchange can be reached from here, and a test must never
 * trade a real one): a node:http server on 127.0.0.1 speaking the subset of
 * https://developers.binance.com/docs/binance-spot-api-docs/rest-api that ccxt's `binance` class calls for
 * loadMarkets (spot only), fetchTime, createOrder, fetchOrder, cancelOrder, fetchOpenOrders, cancelAllOrders,
 * fetchMyTrades / fetchOrderTrades and fetchBalance. Tests drive the REAL ccxt library against it, so
 * signing, parameter names and response parsing are ccxt's own; only the venue is ours.
 *
 * Client set-up (the production adapter does the same, with the real origin left in place):
 *
 * ```ts
 * const ex = new ccxt.binance({ apiKey, secret, enableRateLimit: true, timeout: 2000,
 *   options: { defaultType: 'spot', fetchMarkets: { types: ['spot'] }, fetchCurrencies: false } });
 * ex.setSandboxMode(true);
 * pointBinanceUrlsAt(ex.urls.api, venue.origin); // https://testnet.binance.vision -> http://127.0.0.1:<port>
 * ```
 *
 * With these options ccxt 4.5 calls only /api/v3 (exchangeInfo for loadMarkets; no sapi capital/config
 * because fetchCurrencies is false; no fapi/dapi because fetchMarkets.types is ['spot'] and
 * defaultType is spot). In sandbox mode ccxt has no sapi URL at all, so a stray sapi call fails loudly
 * (NotSupported) instead of leaving the machine. fetchMargins stays at its default false (no
 * sapi margin/allPairs). Market BUY orders given a price are sent by ccxt as `quoteOrderQty` (ccxt's
 * createOrder.quoteOrderQty option, default true); the venue honours both `quantity` and `quoteOrderQty`.
 *
 * The venue keeps its own book for one account (apiKey/secret): orders, trades and balances in decimal
 * arithmetic. Placing an order locks balance (quote at the limit price for buys, base for sells); fills
 * move balances and charge a fee of `feeBps` (default 10) in the RECEIVED asset, as Binance does without
 * BNB: base for a buy, quote for a sell. Fills only happen when a test makes them: `setPrice` (the market
 * price; a market order or a crossing limit takes at it, resting limits it crosses fill at their limit),
 * `fillOrder` (a partial or full maker fill), with optional liquidity at the price for partial IOC/market
 * fills. Binance's error answers are copied (code, msg and HTTP status), so ccxt raises its own classes:
 *
 * | stand-in answer                                                         | ccxt 4.5 class                 |
 * | ----------------------------------------------------------------------- | ------------------------------ |
 * | 401 -2015 Invalid API-key (unknown key; first request of the instance)  | AuthenticationError            |
 * | 401 -2015 after one authenticated success of that ccxt instance         | DDoSProtection (ccxt's choice) |
 * | 400 -1022 Signature for this request is not valid. (wrong secret)       | AuthenticationError            |
 * | 400 -1021 Timestamp ... outside of the recvWindow.                      | InvalidNonce                   |
 * | 400 -2010 Account has insufficient balance for requested action.        | InsufficientFunds              |
 * | 400 -2010 Order would immediately match and take. (LIMIT_MAKER)         | OrderImmediatelyFillable       |
 * | 400 -2010 Duplicate order sent.                                         | InvalidOrder                   |
 * | 400 -1013 Filter failure: LOT_SIZE / PRICE_FILTER                       | InvalidOrder                   |
 * | 400 -1013 Filter failure: NOTIONAL                                      | BadRequest                     |
 * | 400 -2013 Order does not exist. / -2011 Unknown order sent.             | OrderNotFound                  |
 * | 400 -1121 Invalid symbol.                                              | BadSymbol                      |
 * | 400 -1003 / -1015 (rejectNext with the default HTTP 400)                | RateLimitExceeded              |
 * | 429 -1003 (failNext 'rate-limit') / 418 (failNext 'ip-ban')             | DDoSProtection (by status)     |
 * | 503 {"code":1,"msg":"System is under maintenance."} ('maintenance')     | OnMaintenance                  |
 * | 503 plain "Service Unavailable." ('unavailable')                        | ExchangeNotAvailable           |
 * | socket destroyed ('network')                                            | NetworkError                   |
 * | answer later than the client's timeout (acceptButTimeOutNext)           | RequestTimeout                 |
 *
 * (the mapping is pinned by libs/testing/test/fake-binance.int-spec.ts.) ccxt picks its "spot" error map by
 * the URL's origin (https://testnet.binance.vision / api.binance.com); on 127.0.0.1 it uses the common map.
 * The two agree on every code above (the spot map only overrides -1008, -2021, -2022, -2026 and others the
 * venue never sends).
 *
 * RateLimitExceeded and DDoSProtection are siblings under NetworkError in ccxt 4.5 (neither extends the
 * other), and OnMaintenance extends ExchangeNotAvailable. ccxt calls: fetchOrder / cancelOrder by our id
 * take `('', symbol, { clientOrderId })` (sent as origClientOrderId); fetchOpenOrders() without a symbol
 * throws client-side unless `options.warnOnFetchOpenOrdersWithoutSymbol = false`; cancel answers carry the
 * cancel's own id in `clientOrderId` (so ccxt's parsed clientOrderId is that one) and ours in
 * `info.origClientOrderId`, as Binance does; cancelAllOrders with nothing open is -2011 (OrderNotFound).
 *
 * Not modelled: order book depth beyond one price and an optional quantity, stop/OCO/SOR order types
 * (answered -1020), self-trade prevention, request weights, the user-data stream.
 */

export interface FakeBinanceMarket {
  /** Binance's id, e.g. BTCUSDT. */
  symbol: string;
  base: string;
  quote: string;
  tickSize: string;
  stepSize: string;
  minQty: string;
  maxQty?: string;
  minPrice?: string;
  maxPrice?: string;
  /** The NOTIONAL filter's minNotional (price x quantity), in quote. */
  minNotional: string;
}

export const DEFAULT_FAKE_BINANCE_MARKETS: readonly FakeBinanceMarket[] = [
  {
    symbol: 'BTCUSDT',
    base: 'BTC',
    quote: 'USDT',
    tickSize: '0.01',
    stepSize: '0.000001',
    minQty: '0.000001',
    minNotional: '5',
  },
  {
    symbol: 'ETHUSDT',
    base: 'ETH',
    quote: 'USDT',
    tickSize: '0.01',
    stepSize: '0.0001',
    minQty: '0.0001',
    minNotional: '5',
  },
  {
    symbol: 'SOLUSDT',
    base: 'SOL',
    quote: 'USDT',
    tickSize: '0.001',
    stepSize: '0.01',
    minQty: '0.01',
    minNotional: '5',
  },
];

export interface FakeBinanceOptions {
  apiKey?: string;
  secret?: string;
  markets?: readonly FakeBinanceMarket[];
  /** Fee per fill in basis points of the received amount (default 10 = 0.1 %). */
  feeBps?: string | number;
  /** Free balances at start, per asset (default USDT 100000, BTC 1, ETH 10, SOL 100). */
  balances?: Record<string, string>;
}

export type FakeBinanceOrderStatus =
  'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED' | 'REJECTED';
export type FakeBinanceOrderType = 'LIMIT' | 'MARKET' | 'LIMIT_MAKER';
export type FakeBinanceTimeInForce = 'GTC' | 'IOC' | 'FOK';
export type FakeBinanceSide = 'BUY' | 'SELL';

/** One order as the venue holds it (decimal strings as Binance writes them). */
export interface FakeBinanceOrder {
  symbol: string;
  orderId: number;
  clientOrderId: string;
  side: FakeBinanceSide;
  type: FakeBinanceOrderType;
  timeInForce: FakeBinanceTimeInForce;
  price: string;
  origQty: string;
  executedQty: string;
  cummulativeQuoteQty: string;
  status: FakeBinanceOrderStatus;
  time: number;
  updateTime: number;
  /** Placed through placeExternalOrder (not through the API). */
  external: boolean;
}

export interface FakeBinanceTrade {
  symbol: string;
  id: number;
  orderId: number;
  clientOrderId: string;
  price: string;
  qty: string;
  quoteQty: string;
  commission: string;
  commissionAsset: string;
  time: number;
  isBuyer: boolean;
  isMaker: boolean;
}

export interface FakeBinanceRequest {
  method: string;
  /** e.g. /api/v3/order */
  path: string;
  /** Query and form parameters, without `signature`. */
  params: Record<string, string>;
}

/**
 * rate-limit: 429 -1003; ip-ban: 418 -1003; maintenance: 503 with Binance's maintenance message;
 * unavailable: 503 plain text; network: the socket is destroyed without an answer.
 */
export type FakeBinanceFailure = 'rate-limit' | 'ip-ban' | 'maintenance' | 'unavailable' | 'network';

export interface FakeBinanceExternalOrder {
  symbol: string;
  side: FakeBinanceSide;
  type?: FakeBinanceOrderType;
  quantity: string;
  price?: string;
  timeInForce?: FakeBinanceTimeInForce;
  clientOrderId?: string;
}

/** A Binance error answer: HTTP status and the `{code,msg}` body. */
class VenueError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: number,
    readonly msg: string,
  ) {
    super(msg);
  }
}

interface OrderState {
  symbol: string;
  orderId: number;
  clientOrderId: string;
  side: FakeBinanceSide;
  type: FakeBinanceOrderType;
  timeInForce: FakeBinanceTimeInForce;
  price: Decimal;
  origQty: Decimal;
  executedQty: Decimal;
  cummulativeQuoteQty: Decimal;
  origQuoteOrderQty: Decimal;
  status: FakeBinanceOrderStatus;
  time: number;
  updateTime: number;
  external: boolean;
  /** Balance still locked for the unfilled part (quote for buys, base for sells). */
  locked: Decimal;
}

interface TradeState {
  symbol: string;
  id: number;
  orderId: number;
  clientOrderId: string;
  price: Decimal;
  qty: Decimal;
  commission: Decimal;
  commissionAsset: string;
  time: number;
  isBuyer: boolean;
  isMaker: boolean;
}

interface Balance {
  free: Decimal;
  locked: Decimal;
}

interface OrderInput {
  symbol: string;
  side: string | undefined;
  type: string | undefined;
  timeInForce: string | undefined;
  quantity: string | undefined;
  quoteOrderQty: string | undefined;
  price: string | undefined;
  newClientOrderId: string | undefined;
  external: boolean;
}

const ZERO = new Decimal(0);
const OPEN: readonly FakeBinanceOrderStatus[] = ['NEW', 'PARTIALLY_FILLED'];
const SPOT_TESTNET_ORIGIN = 'https://testnet.binance.vision';
const DEFAULT_BALANCES: Record<string, string> = { USDT: '100000', BTC: '1', ETH: '10', SOL: '100' };

/** Binance writes every quantity and price with 8 decimals. */
const fmt = (d: Decimal): string => d.toFixed(8);
const isOpen = (o: OrderState): boolean => OPEN.includes(o.status);
const marketId = (symbol: string): string => symbol.replace('/', '').toUpperCase();

/**
 * Rewrites, in place, every URL in ccxt's `urls.api` (a flat or nested record of strings) whose origin is
 * the spot testnet to the stand-in's origin, keeping the path (/api/v3, /api/v1). Call after
 * setSandboxMode(true). The futures testnet URLs are left alone: with the options above they are never used.
 */
export function pointBinanceUrlsAt(api: unknown, origin: string): void {
  if (api === null || typeof api !== 'object') return;
  const record = api as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === 'string' && value.startsWith(SPOT_TESTNET_ORIGIN)) {
      record[key] = origin + value.slice(SPOT_TESTNET_ORIGIN.length);
    } else if (value && typeof value === 'object') {
      pointBinanceUrlsAt(value, origin);
    }
  }
}

export class FakeBinance {
  readonly apiKey: string;
  readonly secret: string;
  private readonly markets: Map<string, FakeBinanceMarket>;
  private readonly feeRate: Decimal;
  private readonly balances = new Map<string, Balance>();
  private readonly book: OrderState[] = [];
  private readonly fills: TradeState[] = [];
  private readonly log: FakeBinanceRequest[] = [];
  private readonly prices = new Map<string, Decimal>();
  /** Quantity available to takers at the current price, per symbol (absent: unlimited). */
  private readonly liquidity = new Map<string, Decimal>();
  private nextOrderId = 1000;
  private nextTradeId = 5000;
  private pendingRejects: VenueError[] = [];
  private pendingTimeouts: number[] = [];
  private pendingFailures: FakeBinanceFailure[] = [];
  private server: Server | undefined;
  private port = 0;

  constructor(options: FakeBinanceOptions = {}) {
    this.apiKey = options.apiKey ?? randomBytes(32).toString('hex');
    this.secret = options.secret ?? randomBytes(32).toString('hex');
    this.markets = new Map((options.markets ?? DEFAULT_FAKE_BINANCE_MARKETS).map((m) => [m.symbol, m]));
    this.feeRate = new Decimal(options.feeBps ?? 10).div(10_000);
    for (const [asset, free] of Object.entries(options.balances ?? DEFAULT_BALANCES)) {
      this.balances.set(asset, { free: new Decimal(free), locked: ZERO });
    }
  }

  /** http://127.0.0.1:<port>, to put in place of https://testnet.binance.vision. */
  get origin(): string {
    if (!this.server) throw new Error('FakeBinance is not started');
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (raw += chunk));
      req.on('end', () => {
        this.handle(req, res, raw).catch((error: unknown) => {
          if (error instanceof VenueError) return this.sendError(res, error);
          this.send(res, 500, {
            code: -1000,
            msg: 'An unknown error occurred while processing the request.',
          });
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ---- controls ---------------------------------------------------------------------------------------

  /**
   * The market price of a symbol ('BTC/USDT' or 'BTCUSDT'). Resting LIMIT / LIMIT_MAKER orders it crosses
   * fill at their own limit price (maker); later market orders and crossing limits take at it. `liquidity`
   * caps the quantity that can trade at this price until the next setPrice (default: unlimited).
   */
  setPrice(symbol: string, price: string, options: { liquidity?: string } = {}): void {
    const id = this.market(marketId(symbol)).symbol;
    const p = new Decimal(price);
    this.prices.set(id, p);
    if (options.liquidity === undefined) this.liquidity.delete(id);
    else this.liquidity.set(id, new Decimal(options.liquidity));
    for (const order of this.book.filter((o) => o.symbol === id && isOpen(o))) {
      const crosses = order.side === 'BUY' ? p.lte(order.price) : p.gte(order.price);
      if (!crosses) continue;
      const qty = this.takeLiquidity(id, order.origQty.minus(order.executedQty));
      if (qty.gt(0)) this.fill(order, qty, order.price, true);
    }
  }

  /** A (partial or full) maker fill of a resting order: one trade with its own id and fee. */
  fillOrder(clientOrderId: string, quantity: string, price?: string): FakeBinanceTrade {
    const order = this.openOrderByClientId(clientOrderId);
    const qty = new Decimal(quantity);
    const remaining = order.origQty.minus(order.executedQty);
    if (qty.lte(0) || qty.gt(remaining)) {
      throw new Error(
        `fillOrder: ${quantity} is not within the remaining ${fmt(remaining)} of ${clientOrderId}`,
      );
    }
    return this.publicTrade(
      this.fill(order, qty, price === undefined ? order.price : new Decimal(price), true),
    );
  }

  /** The venue cancels a resting order on its own (status CANCELED, the lock released). */
  cancelByVenue(clientOrderId: string): void {
    this.close(this.openOrderByClientId(clientOrderId), 'CANCELED');
  }

  /** The venue expires a resting order on its own (status EXPIRED, the lock released). */
  expireByVenue(clientOrderId: string): void {
    this.close(this.openOrderByClientId(clientOrderId), 'EXPIRED');
  }

  /** The next order placement is refused with this Binance error (HTTP 400 unless told). */
  rejectNext(code: number, msg: string, httpStatus = 400): void {
    this.pendingRejects.push(new VenueError(httpStatus, code, msg));
  }

  /**
   * The next order placement is accepted and recorded (the order exists at the venue), but its answer is
   * held `delayMs` and then the socket is destroyed: a client whose timeout is shorter sees a timeout.
   */
  acceptButTimeOutNext(delayMs: number): void {
    this.pendingTimeouts.push(delayMs);
  }

  /** The next `count` requests (any endpoint) fail this way instead of being served. */
  failNext(kind: FakeBinanceFailure, count = 1): void {
    for (let i = 0; i < count; i++) this.pendingFailures.push(kind);
  }

  /** An order on the same account that the desk did not place (someone used the web UI): drift. */
  placeExternalOrder(order: FakeBinanceExternalOrder): FakeBinanceOrder {
    const type = order.type ?? (order.price === undefined ? 'MARKET' : 'LIMIT');
    const placed = this.place({
      symbol: marketId(order.symbol),
      side: order.side,
      type,
      timeInForce: type === 'LIMIT' ? (order.timeInForce ?? 'GTC') : undefined,
      quantity: order.quantity,
      quoteOrderQty: undefined,
      price: order.price,
      newClientOrderId: order.clientOrderId,
      external: true,
    });
    return this.publicOrder(placed.order);
  }

  /** Sets an asset's free balance (a deposit or withdrawal the desk did not make); locked is unchanged. */
  setBalance(asset: string, free: string): void {
    this.balance(asset).free = new Decimal(free);
  }

  // ---- inspection -------------------------------------------------------------------------------------

  orders(): FakeBinanceOrder[] {
    return this.book.map((o) => this.publicOrder(o));
  }

  trades(): FakeBinanceTrade[] {
    return this.fills.map((t) => this.publicTrade(t));
  }

  requests(): FakeBinanceRequest[] {
    return this.log.map((r) => ({ ...r, params: { ...r.params } }));
  }

  /** How many orders with this client order id the venue accepted. */
  placements(clientOrderId: string): number {
    return this.book.filter((o) => o.clientOrderId === clientOrderId).length;
  }

  balanceOf(asset: string): { free: string; locked: string } {
    const b = this.balance(asset);
    return { free: fmt(b.free), locked: fmt(b.locked) };
  }

  // ---- HTTP -------------------------------------------------------------------------------------------

  private send(res: ServerResponse, status: number, body: unknown): void {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8' });
    res.end(JSON.stringify(body));
  }

  private sendError(res: ServerResponse, error: VenueError): void {
    this.send(res, error.httpStatus, { code: error.code, msg: error.msg });
  }

  private async handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    const params: Record<string, string> = {};
    for (const source of [query, body]) {
      for (const [k, v] of new URLSearchParams(source)) if (k !== 'signature') params[k] = v;
    }
    this.log.push({ method, path, params: { ...params } });

    const failure = this.pendingFailures.shift();
    if (failure) return this.fail(req, res, failure);

    const route = `${method} ${path}`;
    switch (route) {
      case 'GET /api/v3/ping':
        return this.send(res, 200, {});
      case 'GET /api/v3/time':
        return this.send(res, 200, { serverTime: Date.now() });
      case 'GET /api/v3/exchangeInfo':
        return this.send(res, 200, this.exchangeInfo(params));
      default:
        break;
    }
    const signed = [
      'POST /api/v3/order',
      'GET /api/v3/order',
      'DELETE /api/v3/order',
      'GET /api/v3/openOrders',
      'DELETE /api/v3/openOrders',
      'GET /api/v3/allOrders',
      'GET /api/v3/myTrades',
      'GET /api/v3/account',
    ];
    if (!signed.includes(route)) return this.send(res, 404, { code: -1000, msg: `No route ${route} here.` });
    this.authenticate(req, query, body, params);

    switch (route) {
      case 'POST /api/v3/order':
        return this.postOrder(req, res, params);
      case 'GET /api/v3/order':
        return this.send(res, 200, this.orderJson(this.findOrder(params, -2013, 'Order does not exist.')));
      case 'DELETE /api/v3/order': {
        const order = this.findOrder(params, -2011, 'Unknown order sent.');
        if (!isOpen(order)) throw new VenueError(400, -2011, 'Unknown order sent.');
        this.close(order, 'CANCELED');
        return this.send(res, 200, this.cancelJson(order, params.newClientOrderId));
      }
      case 'GET /api/v3/openOrders': {
        const symbol = params.symbol === undefined ? undefined : this.market(params.symbol).symbol;
        const open = this.book.filter((o) => isOpen(o) && (!symbol || o.symbol === symbol));
        return this.send(
          res,
          200,
          open.map((o) => this.orderJson(o)),
        );
      }
      case 'DELETE /api/v3/openOrders': {
        const symbol = this.market(this.required(params, 'symbol')).symbol;
        const open = this.book.filter((o) => isOpen(o) && o.symbol === symbol);
        if (open.length === 0) throw new VenueError(400, -2011, 'Unknown order sent.');
        for (const o of open) this.close(o, 'CANCELED');
        return this.send(
          res,
          200,
          open.map((o) => this.cancelJson(o, undefined)),
        );
      }
      case 'GET /api/v3/allOrders': {
        const symbol = this.market(this.required(params, 'symbol')).symbol;
        const list = this.book.filter(
          (o) =>
            o.symbol === symbol &&
            (params.orderId === undefined || o.orderId >= Number(params.orderId)) &&
            (params.startTime === undefined || o.time >= Number(params.startTime)) &&
            (params.endTime === undefined || o.time <= Number(params.endTime)),
        );
        return this.send(
          res,
          200,
          list.slice(0, this.limit(params)).map((o) => this.orderJson(o)),
        );
      }
      case 'GET /api/v3/myTrades':
        return this.send(res, 200, this.myTrades(params));
      case 'GET /api/v3/account':
        return this.send(res, 200, this.account(params));
      default:
        return this.send(res, 404, { code: -1000, msg: `No route ${route} here.` });
    }
  }

  private fail(req: IncomingMessage, res: ServerResponse, failure: FakeBinanceFailure): void {
    switch (failure) {
      case 'rate-limit':
        res.setHeader('retry-after', '1');
        return this.send(res, 429, {
          code: -1003,
          msg: 'Too much request weight used; current limit is 6000 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.',
        });
      case 'ip-ban':
        res.setHeader('retry-after', '60');
        return this.send(res, 418, {
          code: -1003,
          msg: `Way too much request weight used; IP banned until ${Date.now() + 60_000}. Please use WebSocket Streams for live updates to avoid bans.`,
        });
      case 'maintenance':
        return this.send(res, 503, { code: 1, msg: 'System is under maintenance.' });
      case 'unavailable':
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('Service Unavailable.');
        return;
      case 'network':
        req.socket.destroy();
        return;
    }
  }

  /** X-MBX-APIKEY, then HMAC-SHA256 over the query string concatenated with the body, then the time. */
  private authenticate(
    req: IncomingMessage,
    query: string,
    body: string,
    params: Record<string, string>,
  ): void {
    const key = req.headers['x-mbx-apikey'];
    if (typeof key !== 'string' || key.length === 0) {
      throw new VenueError(401, -2014, 'API-key format invalid.');
    }
    if (!this.safeEqual(key, this.apiKey)) {
      throw new VenueError(401, -2015, 'Invalid API-key, IP, or permissions for action.');
    }
    const withoutSignature = (s: string): { payload: string; signature: string | undefined } => {
      let signature: string | undefined;
      const kept = s
        .split('&')
        .filter((pair) => {
          if (!pair.startsWith('signature=')) return pair.length > 0;
          signature = decodeURIComponent(pair.slice('signature='.length));
          return false;
        })
        .join('&');
      return { payload: kept, signature };
    };
    const fromQuery = withoutSignature(query);
    const fromBody = withoutSignature(body);
    const signature = fromQuery.signature ?? fromBody.signature;
    if (signature === undefined) {
      throw new VenueError(
        400,
        -1102,
        "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
      );
    }
    const expected = createHmac('sha256', this.secret)
      .update(fromQuery.payload + fromBody.payload)
      .digest('hex');
    if (!this.safeEqual(signature.toLowerCase(), expected)) {
      throw new VenueError(400, -1022, 'Signature for this request is not valid.');
    }
    const timestamp = Number(this.required(params, 'timestamp'));
    const recvWindow = params.recvWindow === undefined ? 5000 : Number(params.recvWindow);
    const now = Date.now();
    if (!Number.isFinite(timestamp) || timestamp > now + 1000 || now - timestamp > recvWindow) {
      throw new VenueError(400, -1021, 'Timestamp for this request is outside of the recvWindow.');
    }
  }

  private safeEqual(a: string, b: string): boolean {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  }

  private postOrder(req: IncomingMessage, res: ServerResponse, params: Record<string, string>): void {
    const reject = this.pendingRejects.shift();
    if (reject) throw reject;
    const placed = this.place({
      symbol: this.required(params, 'symbol'),
      side: params.side,
      type: params.type,
      timeInForce: params.timeInForce,
      quantity: params.quantity,
      quoteOrderQty: params.quoteOrderQty,
      price: params.price,
      newClientOrderId: params.newClientOrderId,
      external: false,
    });
    const { order, trades } = placed;
    const respType = params.newOrderRespType ?? (order.type === 'LIMIT_MAKER' ? 'ACK' : 'FULL');
    let answer: Record<string, unknown>;
    if (respType === 'ACK') {
      answer = {
        symbol: order.symbol,
        orderId: order.orderId,
        orderListId: -1,
        clientOrderId: order.clientOrderId,
        transactTime: order.time,
      };
    } else {
      answer = {
        ...this.orderJson(order),
        transactTime: order.time,
      };
      delete answer.time;
      delete answer.updateTime;
      delete answer.isWorking;
      delete answer.stopPrice;
      delete answer.icebergQty;
      if (respType === 'FULL') {
        answer.fills = trades.map((t) => ({
          price: fmt(t.price),
          qty: fmt(t.qty),
          commission: fmt(t.commission),
          commissionAsset: t.commissionAsset,
          tradeId: t.id,
        }));
      }
    }
    const delay = this.pendingTimeouts.shift();
    if (delay === undefined) return this.send(res, 200, answer);
    setTimeout(() => req.socket.destroy(), delay).unref();
  }

  // ---- the book ---------------------------------------------------------------------------------------

  private place(input: OrderInput): { order: OrderState; trades: TradeState[] } {
    const market = this.market(input.symbol);
    const side = input.side;
    if (side !== 'BUY' && side !== 'SELL') throw new VenueError(400, -1117, 'Invalid side.');
    const type = input.type;
    if (type !== 'LIMIT' && type !== 'MARKET' && type !== 'LIMIT_MAKER') {
      if (type === undefined) throw this.mandatory('type');
      throw new VenueError(400, -1020, 'This operation is not supported.');
    }
    let timeInForce: FakeBinanceTimeInForce = 'GTC';
    if (type === 'LIMIT') {
      const tif = input.timeInForce;
      if (tif === undefined) throw this.mandatory('timeInForce');
      if (tif !== 'GTC' && tif !== 'IOC' && tif !== 'FOK')
        throw new VenueError(400, -1115, 'Invalid timeInForce.');
      timeInForce = tif;
    } else if (input.timeInForce !== undefined) {
      throw new VenueError(400, -1106, "Parameter 'timeInForce' sent when not required.");
    }
    const clientOrderId = input.newClientOrderId ?? `web_${randomBytes(12).toString('hex')}`;
    if (this.book.some((o) => o.clientOrderId === clientOrderId && isOpen(o))) {
      throw new VenueError(400, -2010, 'Duplicate order sent.');
    }

    const marketPrice = this.prices.get(market.symbol);
    let price = ZERO;
    if (type !== 'MARKET') {
      if (input.price === undefined) throw this.mandatory('price');
      price = this.decimal(input.price, 'price');
      if (
        price.lte(0) ||
        !price.mod(market.tickSize).isZero() ||
        (market.minPrice !== undefined && price.lt(market.minPrice)) ||
        (market.maxPrice !== undefined && new Decimal(market.maxPrice).gt(0) && price.gt(market.maxPrice))
      ) {
        throw new VenueError(400, -1013, 'Filter failure: PRICE_FILTER');
      }
    }
    let quantity: Decimal;
    let origQuoteOrderQty = ZERO;
    if (input.quantity !== undefined) {
      quantity = this.decimal(input.quantity, 'quantity');
    } else if (type === 'MARKET' && input.quoteOrderQty !== undefined) {
      origQuoteOrderQty = this.decimal(input.quoteOrderQty, 'quoteOrderQty');
      quantity = marketPrice
        ? origQuoteOrderQty.div(marketPrice).toNearest(market.stepSize, Decimal.ROUND_DOWN)
        : ZERO;
    } else {
      throw this.mandatory('quantity');
    }
    if (
      quantity.lt(market.minQty) ||
      (market.maxQty !== undefined && quantity.gt(market.maxQty)) ||
      !quantity.minus(market.minQty).mod(market.stepSize).isZero()
    ) {
      if (!(type === 'MARKET' && input.quantity === undefined && !marketPrice)) {
        throw new VenueError(400, -1013, 'Filter failure: LOT_SIZE');
      }
    }
    const notionalPrice = type === 'MARKET' ? marketPrice : price;
    if (notionalPrice && quantity.times(notionalPrice).lt(market.minNotional)) {
      throw new VenueError(400, -1013, 'Filter failure: NOTIONAL');
    }

    const crosses =
      marketPrice !== undefined &&
      (type === 'MARKET' || (side === 'BUY' ? price.gte(marketPrice) : price.lte(marketPrice)));
    if (type === 'LIMIT_MAKER' && crosses) {
      throw new VenueError(400, -2010, 'Order would immediately match and take.');
    }

    // Funds: a buy locks quote at its limit (a market buy needs quote for the quantity at the market price),
    // a sell locks base.
    const lockAsset = side === 'BUY' ? market.quote : market.base;
    const lockAmount =
      side === 'BUY' ? quantity.times(type === 'MARKET' ? (marketPrice ?? ZERO) : price) : quantity;
    const funds = this.balance(lockAsset);
    if (funds.free.lt(lockAmount)) {
      throw new VenueError(400, -2010, 'Account has insufficient balance for requested action.');
    }
    funds.free = funds.free.minus(lockAmount);
    funds.locked = funds.locked.plus(lockAmount);

    const now = Date.now();
    const order: OrderState = {
      symbol: market.symbol,
      orderId: this.nextOrderId++,
      clientOrderId,
      side,
      type,
      timeInForce,
      price,
      origQty: quantity,
      executedQty: ZERO,
      cummulativeQuoteQty: ZERO,
      origQuoteOrderQty,
      status: 'NEW',
      time: now,
      updateTime: now,
      external: input.external,
      locked: lockAmount,
    };
    this.book.push(order);

    const trades: TradeState[] = [];
    if (crosses && marketPrice) {
      const available = this.liquidity.get(market.symbol);
      const fillable = available === undefined ? quantity : Decimal.min(quantity, available);
      if (!(timeInForce === 'FOK' && fillable.lt(quantity)) && fillable.gt(0)) {
        this.takeLiquidity(market.symbol, fillable);
        trades.push(this.fill(order, fillable, marketPrice, false));
      }
    }
    if (isOpen(order) && (type === 'MARKET' || timeInForce !== 'GTC')) this.close(order, 'EXPIRED');
    return { order, trades };
  }

  /** One trade of `qty` at `price`: balances, fee in the received asset, the order's progress. */
  private fill(order: OrderState, qty: Decimal, price: Decimal, isMaker: boolean): TradeState {
    const market = this.market(order.symbol);
    const quoteQty = qty.times(price);
    const base = this.balance(market.base);
    const quote = this.balance(market.quote);
    let commission: Decimal;
    let commissionAsset: string;
    if (order.side === 'BUY') {
      // The lock was taken at the limit price (market buys: the price at placement); release this part's
      // share of it, pay the actual cost.
      const remainingBefore = order.origQty.minus(order.executedQty);
      const release = order.locked.times(qty).div(remainingBefore);
      quote.locked = quote.locked.minus(release);
      quote.free = quote.free.plus(release).minus(quoteQty);
      order.locked = order.locked.minus(release);
      commission = qty.times(this.feeRate).toDecimalPlaces(8, Decimal.ROUND_UP);
      commissionAsset = market.base;
      base.free = base.free.plus(qty).minus(commission);
    } else {
      base.locked = base.locked.minus(qty);
      order.locked = order.locked.minus(qty);
      commission = quoteQty.times(this.feeRate).toDecimalPlaces(8, Decimal.ROUND_UP);
      commissionAsset = market.quote;
      quote.free = quote.free.plus(quoteQty).minus(commission);
    }
    order.executedQty = order.executedQty.plus(qty);
    order.cummulativeQuoteQty = order.cummulativeQuoteQty.plus(quoteQty);
    order.updateTime = Date.now();
    order.status = order.executedQty.gte(order.origQty) ? 'FILLED' : 'PARTIALLY_FILLED';
    if (order.status === 'FILLED' && order.locked.gt(0)) {
      // Rounding leftovers of a buy's lock go back to free.
      quote.locked = quote.locked.minus(order.locked);
      quote.free = quote.free.plus(order.locked);
      order.locked = ZERO;
    }
    const trade: TradeState = {
      symbol: order.symbol,
      id: this.nextTradeId++,
      orderId: order.orderId,
      clientOrderId: order.clientOrderId,
      price,
      qty,
      commission,
      commissionAsset,
      time: order.updateTime,
      isBuyer: order.side === 'BUY',
      isMaker,
    };
    this.fills.push(trade);
    return trade;
  }

  private close(order: OrderState, status: 'CANCELED' | 'EXPIRED'): void {
    const market = this.market(order.symbol);
    const funds = this.balance(order.side === 'BUY' ? market.quote : market.base);
    funds.locked = funds.locked.minus(order.locked);
    funds.free = funds.free.plus(order.locked);
    order.locked = ZERO;
    order.status = status;
    order.updateTime = Date.now();
  }

  private takeLiquidity(symbol: string, wanted: Decimal): Decimal {
    const available = this.liquidity.get(symbol);
    if (available === undefined) return wanted;
    const taken = Decimal.min(wanted, available);
    this.liquidity.set(symbol, available.minus(taken));
    return taken;
  }

  private openOrderByClientId(clientOrderId: string): OrderState {
    const order = this.book.find((o) => o.clientOrderId === clientOrderId && isOpen(o));
    if (!order) throw new Error(`no open order with client order id ${clientOrderId}`);
    return order;
  }

  private findOrder(params: Record<string, string>, code: number, msg: string): OrderState {
    const symbol = this.market(this.required(params, 'symbol')).symbol;
    let candidates: OrderState[];
    if (params.orderId !== undefined) {
      candidates = this.book.filter((o) => o.symbol === symbol && String(o.orderId) === params.orderId);
    } else if (params.origClientOrderId !== undefined) {
      candidates = this.book.filter(
        (o) => o.symbol === symbol && o.clientOrderId === params.origClientOrderId,
      );
    } else {
      throw new VenueError(
        400,
        -1102,
        "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
      );
    }
    const order = candidates.at(-1);
    if (!order) throw new VenueError(400, code, msg);
    return order;
  }

  private balance(asset: string): Balance {
    let b = this.balances.get(asset);
    if (!b) {
      b = { free: ZERO, locked: ZERO };
      this.balances.set(asset, b);
    }
    return b;
  }

  private market(symbol: string): FakeBinanceMarket {
    const market = this.markets.get(symbol);
    if (!market) throw new VenueError(400, -1121, 'Invalid symbol.');
    return market;
  }

  private required(params: Record<string, string>, name: string): string {
    const value = params[name];
    if (value === undefined || value === '') throw this.mandatory(name);
    return value;
  }

  private mandatory(name: string): VenueError {
    return new VenueError(
      400,
      -1102,
      `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`,
    );
  }

  private decimal(value: string, name: string): Decimal {
    try {
      return new Decimal(value);
    } catch {
      throw new VenueError(
        400,
        -1100,
        `Illegal characters found in parameter '${name}'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.`,
      );
    }
  }

  private limit(params: Record<string, string>): number {
    return Math.min(params.limit === undefined ? 500 : Number(params.limit), 1000);
  }

  // ---- answers as Binance writes them -----------------------------------------------------------------

  private exchangeInfo(params: Record<string, string>): unknown {
    let wanted = [...this.markets.values()];
    if (params.symbol !== undefined) wanted = [this.market(params.symbol)];
    if (params.symbols !== undefined) {
      const ids = JSON.parse(params.symbols) as string[];
      wanted = ids.map((id) => this.market(id));
    }
    return {
      timezone: 'UTC',
      serverTime: Date.now(),
      rateLimits: [
        { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 },
        { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100 },
        { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: 200000 },
        { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 61000 },
      ],
      exchangeFilters: [],
      symbols: wanted.map((m) => ({
        symbol: m.symbol,
        status: 'TRADING',
        baseAsset: m.base,
        baseAssetPrecision: 8,
        quoteAsset: m.quote,
        quotePrecision: 8,
        quoteAssetPrecision: 8,
        baseCommissionPrecision: 8,
        quoteCommissionPrecision: 8,
        orderTypes: [
          'LIMIT',
          'LIMIT_MAKER',
          'MARKET',
          'STOP_LOSS',
          'STOP_LOSS_LIMIT',
          'TAKE_PROFIT',
          'TAKE_PROFIT_LIMIT',
        ],
        icebergAllowed: true,
        ocoAllowed: true,
        otoAllowed: true,
        quoteOrderQtyMarketAllowed: true,
        allowTrailingStop: true,
        cancelReplaceAllowed: true,
        amendAllowed: true,
        isSpotTradingAllowed: true,
        isMarginTradingAllowed: false,
        filters: [
          {
            filterType: 'PRICE_FILTER',
            minPrice: fmt(new Decimal(m.minPrice ?? m.tickSize)),
            maxPrice: fmt(new Decimal(m.maxPrice ?? '1000000')),
            tickSize: fmt(new Decimal(m.tickSize)),
          },
          {
            filterType: 'LOT_SIZE',
            minQty: fmt(new Decimal(m.minQty)),
            maxQty: fmt(new Decimal(m.maxQty ?? '9000')),
            stepSize: fmt(new Decimal(m.stepSize)),
          },
          {
            filterType: 'NOTIONAL',
            minNotional: fmt(new Decimal(m.minNotional)),
            applyMinToMarket: true,
            maxNotional: '9000000.00000000',
            applyMaxToMarket: false,
            avgPriceMins: 5,
          },
        ],
        permissions: [],
        permissionSets: [['SPOT']],
        defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
        allowedSelfTradePreventionModes: ['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
      })),
    };
  }

  private orderJson(o: OrderState): Record<string, unknown> {
    return {
      symbol: o.symbol,
      orderId: o.orderId,
      orderListId: -1,
      clientOrderId: o.clientOrderId,
      price: fmt(o.price),
      origQty: fmt(o.origQty),
      executedQty: fmt(o.executedQty),
      cummulativeQuoteQty: fmt(o.cummulativeQuoteQty),
      status: o.status,
      timeInForce: o.timeInForce,
      type: o.type,
      side: o.side,
      stopPrice: fmt(ZERO),
      icebergQty: fmt(ZERO),
      time: o.time,
      updateTime: o.updateTime,
      isWorking: true,
      workingTime: o.time,
      origQuoteOrderQty: fmt(o.origQuoteOrderQty),
      selfTradePreventionMode: 'EXPIRE_MAKER',
    };
  }

  /** DELETE answers: `clientOrderId` is the cancel request's own id, the order's is `origClientOrderId`. */
  private cancelJson(o: OrderState, cancelClientOrderId: string | undefined): Record<string, unknown> {
    return {
      symbol: o.symbol,
      origClientOrderId: o.clientOrderId,
      orderId: o.orderId,
      orderListId: -1,
      clientOrderId: cancelClientOrderId ?? randomBytes(11).toString('base64url'),
      transactTime: o.updateTime,
      price: fmt(o.price),
      origQty: fmt(o.origQty),
      executedQty: fmt(o.executedQty),
      cummulativeQuoteQty: fmt(o.cummulativeQuoteQty),
      status: o.status,
      timeInForce: o.timeInForce,
      type: o.type,
      side: o.side,
      selfTradePreventionMode: 'EXPIRE_MAKER',
    };
  }

  private myTrades(params: Record<string, string>): unknown[] {
    const symbol = this.market(this.required(params, 'symbol')).symbol;
    const list = this.fills.filter(
      (t) =>
        t.symbol === symbol &&
        (params.orderId === undefined || String(t.orderId) === params.orderId) &&
        (params.fromId === undefined || t.id >= Number(params.fromId)) &&
        (params.startTime === undefined || t.time >= Number(params.startTime)) &&
        (params.endTime === undefined || t.time <= Number(params.endTime)),
    );
    return list.slice(0, this.limit(params)).map((t) => ({
      symbol: t.symbol,
      id: t.id,
      orderId: t.orderId,
      orderListId: -1,
      price: fmt(t.price),
      qty: fmt(t.qty),
      quoteQty: fmt(t.price.times(t.qty)),
      commission: fmt(t.commission),
      commissionAsset: t.commissionAsset,
      time: t.time,
      isBuyer: t.isBuyer,
      isMaker: t.isMaker,
      isBestMatch: true,
    }));
  }

  private account(params: Record<string, string>): unknown {
    const omitZero = params.omitZeroBalances === 'true';
    const fee = this.feeRate.toFixed(8);
    const bps = this.feeRate.times(10_000).toNumber();
    return {
      makerCommission: bps,
      takerCommission: bps,
      buyerCommission: 0,
      sellerCommission: 0,
      commissionRates: { maker: fee, taker: fee, buyer: fmt(ZERO), seller: fmt(ZERO) },
      canTrade: true,
      canWithdraw: true,
      canDeposit: true,
      brokered: false,
      requireSelfTradePrevention: false,
      preventSor: false,
      updateTime: Date.now(),
      accountType: 'SPOT',
      balances: [...this.balances.entries()]
        .filter(([, b]) => !omitZero || b.free.plus(b.locked).gt(0))
        .map(([asset, b]) => ({ asset, free: fmt(b.free), locked: fmt(b.locked) })),
      permissions: ['SPOT'],
      uid: 354937868,
    };
  }

  private publicOrder(o: OrderState): FakeBinanceOrder {
    return {
      symbol: o.symbol,
      orderId: o.orderId,
      clientOrderId: o.clientOrderId,
      side: o.side,
      type: o.type,
      timeInForce: o.timeInForce,
      price: fmt(o.price),
      origQty: fmt(o.origQty),
      executedQty: fmt(o.executedQty),
      cummulativeQuoteQty: fmt(o.cummulativeQuoteQty),
      status: o.status,
      time: o.time,
      updateTime: o.updateTime,
      external: o.external,
    };
  }

  private publicTrade(t: TradeState): FakeBinanceTrade {
    return {
      symbol: t.symbol,
      id: t.id,
      orderId: t.orderId,
      clientOrderId: t.clientOrderId,
      price: fmt(t.price),
      qty: fmt(t.qty),
      quoteQty: fmt(t.price.times(t.qty)),
      commission: fmt(t.commission),
      commissionAsset: t.commissionAsset,
      time: t.time,
      isBuyer: t.isBuyer,
      isMaker: t.isMaker,
    };
  }
}

/** Starts a stand-in (see FakeBinance); stop it with `stop()`. */
export async function startFakeBinance(options: FakeBinanceOptions = {}): Promise<FakeBinance> {
  const venue = new FakeBinance(options);
  await venue.start();
  return venue;
}
