import * as ccxt from 'ccxt';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FakeBinance, pointBinanceUrlsAt, startFakeBinance } from '../src/fake-binance';

/**
 * The stand-in is only worth something if the real ccxt library, set up as the production adapter will
 * be, can trade against it and sees Binance's behaviour: its own signing, parameter names, parsing and
 * error classes. Every call here goes through ccxt's binance class over HTTP.
 */
function client(venue: FakeBinance, credentials: { apiKey?: string; secret?: string } = {}): ccxt.binance {
  const ex = new ccxt.binance({
    apiKey: credentials.apiKey ?? venue.apiKey,
    secret: credentials.secret ?? venue.secret,
    enableRateLimit: true,
    timeout: 2000,
    options: { defaultType: 'spot', fetchMarkets: { types: ['spot'] }, fetchCurrencies: false },
  });
  ex.setSandboxMode(true);
  pointBinanceUrlsAt(ex.urls.api, venue.origin);
  return ex;
}

/** The venue's order id ccxt parsed (every order answer carries one). */
function idOf(order: ccxt.Order): string {
  if (!order.id) throw new Error('ccxt parsed no order id');
  return order.id;
}

/** The error a promise rejects with (fails the test if it resolves). */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

describe('Binance spot stand-in (a local venue, not Binance) driven by the real ccxt library', () => {
  let venue: FakeBinance;
  let ex: ccxt.binance;

  beforeEach(async () => {
    venue = await startFakeBinance({ balances: { USDT: '10000', BTC: '1', ETH: '0', SOL: '0' } });
    ex = client(venue);
    await ex.loadMarkets();
  });

  afterEach(async () => {
    await venue.stop();
  });

  it('loadMarkets reads the spot filters as ccxt precision and limits, from /api/v3 only', async () => {
    const btc = ex.market('BTC/USDT');
    expect(btc).toMatchObject({ id: 'BTCUSDT', spot: true, active: true, base: 'BTC', quote: 'USDT' });
    expect(btc.precision).toMatchObject({ price: 0.01, amount: 0.000001 });
    expect(btc.limits.amount?.min).toBe(0.000001);
    expect(btc.limits.cost?.min).toBe(5);
    expect(ex.market('ETH/USDT').precision).toMatchObject({ price: 0.01, amount: 0.0001 });
    expect(ex.market('SOL/USDT').precision).toMatchObject({ price: 0.001, amount: 0.01 });
    expect(Object.keys(ex.markets ?? {}).sort()).toEqual(['BTC/USDT', 'ETH/USDT', 'SOL/USDT']);
    expect(await ex.fetchTime()).toBeGreaterThan(Date.now() - 5000);
    expect(venue.requests().map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/v3/exchangeInfo',
      'GET /api/v3/time',
    ]);
  });

  it('a GTC limit rests, locks quote, and shows in fetchOpenOrders and fetchOrder under our client order id', async () => {
    const placed = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 50000, {
      clientOrderId: 'desk-1',
      timeInForce: 'GTC',
    });
    expect(placed).toMatchObject({ clientOrderId: 'desk-1', status: 'open', filled: 0, remaining: 0.01 });
    const post = venue.requests().find((r) => r.method === 'POST');
    expect(post?.params).toMatchObject({
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: '0.01',
      price: '50000',
      newClientOrderId: 'desk-1',
      newOrderRespType: 'FULL',
    });

    const open = await ex.fetchOpenOrders('BTC/USDT');
    expect(open.map((o) => o.clientOrderId)).toEqual(['desk-1']);
    const fetched = await ex.fetchOrder('', 'BTC/USDT', { clientOrderId: 'desk-1' });
    expect(fetched).toMatchObject({ id: placed.id, clientOrderId: 'desk-1', price: 50000, amount: 0.01 });
    expect(venue.requests().at(-1)?.params).toMatchObject({ origClientOrderId: 'desk-1' });

    const balance = await ex.fetchBalance();
    expect(balance.USDT).toMatchObject({ free: 9500, used: 500, total: 10000 });
  });

  it('two partial fills: fetchOrder shows filled, remaining and status; the trades carry their fees', async () => {
    const placed = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.03, 50000, { clientOrderId: 'desk-2' });
    venue.fillOrder('desk-2', '0.01');
    venue.fillOrder('desk-2', '0.005', '49990');

    const order = await ex.fetchOrder(idOf(placed), 'BTC/USDT');
    expect(order).toMatchObject({ status: 'open', filled: 0.015, remaining: 0.015, cost: 749.95 });
    expect(order.info).toMatchObject({ status: 'PARTIALLY_FILLED', executedQty: '0.01500000' });

    const trades = await ex.fetchOrderTrades(idOf(placed), 'BTC/USDT');
    expect(trades.map((t) => [t.amount, t.price, t.fee?.cost, t.fee?.currency, t.takerOrMaker])).toEqual([
      [0.01, 50000, 0.00001, 'BTC', 'maker'],
      [0.005, 49990, 0.000005, 'BTC', 'maker'],
    ]);
    expect(new Set(trades.map((t) => t.id)).size).toBe(2);
    expect((await ex.fetchMyTrades('BTC/USDT')).map((t) => t.order)).toEqual([placed.id, placed.id]);

    // 0.015 BTC bought less 0.1 % fee; 1500 USDT locked for the rest, 749.95 spent (0.05 back from the
    // better second price).
    const balance = await ex.fetchBalance();
    expect(balance.BTC).toMatchObject({ free: 1.014985, used: 0 });
    expect(balance.USDT).toMatchObject({ free: 8500.05, used: 750 });
  });

  it('cancelOrder cancels at the venue and releases the lock; cancelAllOrders clears a symbol', async () => {
    const a = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 40000, { clientOrderId: 'desk-3a' });
    await ex.createOrder('BTC/USDT', 'limit', 'sell', 0.5, 90000, { clientOrderId: 'desk-3b' });
    await ex.createOrder('BTC/USDT', 'limit', 'sell', 0.1, 95000, { clientOrderId: 'desk-3c' });
    const canceled = await ex.cancelOrder(idOf(a), 'BTC/USDT');
    expect(canceled).toMatchObject({ id: a.id, status: 'canceled' });
    expect(canceled.info).toMatchObject({ origClientOrderId: 'desk-3a' });

    const all = await ex.cancelAllOrders('BTC/USDT');
    expect(all.map((o) => o.status)).toEqual(['canceled', 'canceled']);
    expect(await ex.fetchOpenOrders('BTC/USDT')).toEqual([]);
    expect(venue.balanceOf('USDT')).toEqual({ free: '10000.00000000', locked: '0.00000000' });
    expect(venue.balanceOf('BTC')).toEqual({ free: '1.00000000', locked: '0.00000000' });

    const again = await failure(ex.cancelOrder(idOf(a), 'BTC/USDT'));
    expect(again).toBeInstanceOf(ccxt.OrderNotFound);
    // Binance answers -2011 when there is nothing to cancel, so ccxt raises OrderNotFound here too.
    expect(await failure(ex.cancelAllOrders('BTC/USDT'))).toBeInstanceOf(ccxt.OrderNotFound);
  });

  it('cancelOrder by our client order id; fetchOpenOrders across symbols once ccxt is told it may', async () => {
    await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 40000, { clientOrderId: 'desk-3d' });
    await ex.createOrder('SOL/USDT', 'limit', 'buy', 1, 100.005, { clientOrderId: 'desk-3e' });
    expect(await failure(ex.fetchOpenOrders())).toBeInstanceOf(ccxt.ExchangeError);
    ex.options.warnOnFetchOpenOrdersWithoutSymbol = false;
    const open = await ex.fetchOpenOrders();
    expect(open.map((o) => [o.symbol, o.clientOrderId])).toEqual([
      ['BTC/USDT', 'desk-3d'],
      ['SOL/USDT', 'desk-3e'],
    ]);
    const canceled = await ex.cancelOrder('', 'BTC/USDT', { clientOrderId: 'desk-3d' });
    expect(canceled.status).toBe('canceled');
    expect(venue.requests().at(-1)).toMatchObject({
      method: 'DELETE',
      path: '/api/v3/order',
      params: { symbol: 'BTCUSDT', origClientOrderId: 'desk-3d' },
    });
    expect(venue.orders().map((o) => o.status)).toEqual(['CANCELED', 'NEW']);
  });

  it('a venue-side cancel or expiry is what fetchOrder then reports', async () => {
    await ex.createOrder('ETH/USDT', 'limit', 'buy', 1, 2000, { clientOrderId: 'desk-4a' });
    await ex.createOrder('ETH/USDT', 'limit', 'buy', 1, 1900, { clientOrderId: 'desk-4b' });
    venue.cancelByVenue('desk-4a');
    venue.expireByVenue('desk-4b');
    expect((await ex.fetchOrder('', 'ETH/USDT', { clientOrderId: 'desk-4a' })).status).toBe('canceled');
    expect((await ex.fetchOrder('', 'ETH/USDT', { clientOrderId: 'desk-4b' })).status).toBe('expired');
    expect(venue.balanceOf('USDT').locked).toBe('0.00000000');

    const unknown = await failure(ex.fetchOrder('', 'ETH/USDT', { clientOrderId: 'never-sent' }));
    expect(unknown).toBeInstanceOf(ccxt.OrderNotFound);
  });

  it('a market order fills at the price the test set, the fee in the received asset', async () => {
    venue.setPrice('BTC/USDT', '60000');
    const sell = await ex.createOrder('BTC/USDT', 'market', 'sell', 0.1, undefined, {
      clientOrderId: 'desk-5',
    });
    expect(sell).toMatchObject({ status: 'closed', filled: 0.1, remaining: 0, cost: 6000, average: 60000 });
    expect(sell.fee).toMatchObject({ cost: 6, currency: 'USDT' });
    expect(venue.balanceOf('USDT').free).toBe('15994.00000000');
    expect(venue.balanceOf('BTC').free).toBe('0.90000000');

    // Given a price, ccxt sends a market buy as quoteOrderQty (price x amount), not quantity.
    const buy = await ex.createOrder('BTC/USDT', 'market', 'buy', 0.05, 60000, { clientOrderId: 'desk-5b' });
    expect(venue.requests().at(-1)?.params).toMatchObject({ type: 'MARKET', quoteOrderQty: '3000' });
    expect(venue.requests().at(-1)?.params.quantity).toBeUndefined();
    expect(buy).toMatchObject({ status: 'closed', filled: 0.05, cost: 3000 });
    expect(buy.fee).toMatchObject({ cost: 0.00005, currency: 'BTC' });
  });

  it('a resting limit fills when the price crosses it (at its limit, as maker)', async () => {
    venue.setPrice('BTC/USDT', '60000');
    await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 59000, { clientOrderId: 'desk-6' });
    venue.setPrice('BTC/USDT', '59500');
    expect((await ex.fetchOrder('', 'BTC/USDT', { clientOrderId: 'desk-6' })).status).toBe('open');
    venue.setPrice('BTC/USDT', '58000');
    const order = await ex.fetchOrder('', 'BTC/USDT', { clientOrderId: 'desk-6' });
    expect(order).toMatchObject({ status: 'closed', filled: 0.01, cost: 590 });
    expect(venue.trades()).toEqual([expect.objectContaining({ price: '59000.00000000', isMaker: true })]);
  });

  it('IOC fills what it can at once and expires the rest; FOK is all or nothing', async () => {
    venue.setPrice('BTC/USDT', '60000', { liquidity: '0.004' });
    const ioc = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 60100, {
      clientOrderId: 'desk-7a',
      timeInForce: 'IOC',
    });
    expect(ioc).toMatchObject({ status: 'expired', filled: 0.004, remaining: 0.006, average: 60000 });
    expect(venue.requests().find((r) => r.method === 'POST')?.params.timeInForce).toBe('IOC');

    venue.setPrice('BTC/USDT', '60000', { liquidity: '0.004' });
    const fok = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 60100, {
      clientOrderId: 'desk-7b',
      timeInForce: 'FOK',
    });
    expect(fok).toMatchObject({ status: 'expired', filled: 0 });
    expect(venue.balanceOf('USDT').locked).toBe('0.00000000');
  });

  it('a post-only order that would cross is rejected as OrderImmediatelyFillable', async () => {
    venue.setPrice('BTC/USDT', '60000');
    const error = await failure(
      ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 60500, { clientOrderId: 'desk-8', postOnly: true }),
    );
    expect(error).toBeInstanceOf(ccxt.OrderImmediatelyFillable);
    expect(error).toBeInstanceOf(ccxt.InvalidOrder);
    expect(venue.requests().find((r) => r.method === 'POST')?.params.type).toBe('LIMIT_MAKER');
    expect(venue.placements('desk-8')).toBe(0);

    const resting = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 59000, { postOnly: true });
    expect(resting).toMatchObject({ postOnly: true, status: 'open' });
  });

  it('refusals map to ccxt classes: LOT_SIZE -> InvalidOrder, NOTIONAL -> BadRequest, balance -> InsufficientFunds', async () => {
    venue.rejectNext(-1013, 'Filter failure: LOT_SIZE');
    expect(await failure(ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 50000))).toBeInstanceOf(
      ccxt.InvalidOrder,
    );
    venue.rejectNext(-2010, 'Account has insufficient balance for requested action.');
    expect(await failure(ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 50000))).toBeInstanceOf(
      ccxt.InsufficientFunds,
    );
    // The venue's own checks.
    const short = await failure(ex.createOrder('BTC/USDT', 'limit', 'buy', 1, 50000));
    expect(short).toBeInstanceOf(ccxt.InsufficientFunds);
    const small = await failure(ex.createOrder('BTC/USDT', 'limit', 'buy', 0.00001, 50000));
    expect(small).toBeInstanceOf(ccxt.BadRequest);
    expect(small.message).toContain('Filter failure: NOTIONAL');
    expect(venue.orders()).toEqual([]);
  });

  it('an order accepted but answered too late: RequestTimeout, one order at the venue, a retry is a duplicate', async () => {
    venue.acceptButTimeOutNext(3000);
    const timedOut = await failure(
      ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 50000, { clientOrderId: 'desk-9' }),
    );
    expect(timedOut).toBeInstanceOf(ccxt.RequestTimeout);
    expect(venue.placements('desk-9')).toBe(1);

    const retry = await failure(
      ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 50000, { clientOrderId: 'desk-9' }),
    );
    expect(retry).toBeInstanceOf(ccxt.InvalidOrder);
    expect(retry.message).toContain('Duplicate order sent.');
    expect(venue.placements('desk-9')).toBe(1);
    expect((await ex.fetchOrder('', 'BTC/USDT', { clientOrderId: 'desk-9' })).status).toBe('open');
  });

  it('rate limit, maintenance, outage and a dropped connection map to ccxt network classes', async () => {
    venue.failNext('rate-limit');
    expect(await failure(ex.fetchOpenOrders('BTC/USDT'))).toBeInstanceOf(ccxt.DDoSProtection);
    venue.failNext('ip-ban');
    expect(await failure(ex.fetchOpenOrders('BTC/USDT'))).toBeInstanceOf(ccxt.DDoSProtection);
    venue.failNext('maintenance');
    expect(await failure(ex.fetchBalance())).toBeInstanceOf(ccxt.OnMaintenance);
    venue.failNext('unavailable');
    expect(await failure(ex.fetchBalance())).toBeInstanceOf(ccxt.ExchangeNotAvailable);
    venue.failNext('network', 2);
    expect(await failure(ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 50000))).toBeInstanceOf(
      ccxt.NetworkError,
    );
    expect(await failure(ex.fetchBalance())).toBeInstanceOf(ccxt.NetworkError);
    expect(venue.orders()).toEqual([]);
    expect((await ex.fetchBalance()).USDT?.free).toBe(10000);
  });

  it('a wrong secret or an unknown key is an AuthenticationError', async () => {
    const wrongSecret = client(venue, { secret: 'not-the-secret' });
    expect(await failure(wrongSecret.fetchBalance())).toBeInstanceOf(ccxt.AuthenticationError);
    const wrongKey = client(venue, { apiKey: 'not-the-key' });
    expect(await failure(wrongKey.fetchBalance())).toBeInstanceOf(ccxt.AuthenticationError);
    expect(venue.requests().filter((r) => r.path === '/api/v3/account')).toHaveLength(2);
    expect(venue.requests().every((r) => !('signature' in r.params))).toBe(true);
  });

  it('a request signed with a timestamp outside recvWindow is refused (InvalidNonce)', async () => {
    ex.options.timeDifference = 10_000; // ccxt thinks the server is 10 s behind
    expect(await failure(ex.fetchBalance())).toBeInstanceOf(ccxt.InvalidNonce);
    ex.options.timeDifference = 0;
    expect((await ex.fetchBalance()).USDT?.free).toBe(10000);
  });

  it('drift the desk did not cause: an external order and a balance change are visible through ccxt', async () => {
    venue.placeExternalOrder({ symbol: 'BTC/USDT', side: 'SELL', quantity: '0.2', price: '99000' });
    venue.setBalance('USDT', '123.45');
    const open = await ex.fetchOpenOrders('BTC/USDT');
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ side: 'sell', amount: 0.2, price: 99000 });
    const balance = await ex.fetchBalance();
    expect(balance.USDT).toMatchObject({ free: 123.45, used: 0 });
    expect(balance.BTC).toMatchObject({ free: 0.8, used: 0.2 });
  });
});
