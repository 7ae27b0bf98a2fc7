import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OrderSide, OrderType, TimeInForce, money, type OrderParams } from '@desk/contracts';
import { startFakeBinance, waitFor, type FakeBinance } from '@desk/testing';
import { clientOrderIdFor } from '../src/modules/exchange/venue-error';
import { ReconciliationService } from '../src/modules/reconciliation/reconciliation.service';
import { ExecutionHarness } from './execution-harness';

const API_KEY = 'stand-in-api-key-0001';
const API_SECRET = 'stand-in-api-secret-0001';

/**
 * Execution on EXECUTION_MODE=testnet with the real ccxt `binance` class, its API URLs pointed at a local
 * stand-in for Binance spot's REST API (libs/testing/src/fake-binance.ts): signing, parameter names and
 * response parsing are ccxt's own; only the venue is ours.
 */
describe('execution trading a Binance spot stand-in (a local venue, not Binance) through the real ccxt library', () => {
  let venue: FakeBinance;
  let h: ExecutionHarness;

  beforeAll(async () => {
    venue = await startFakeBinance({
      apiKey: API_KEY,
      secret: API_SECRET,
      balances: { USDT: '1000000', BTC: '10' },
    });
    venue.setPrice('BTC/USDT', '65000');
    h = await ExecutionHarness.create('execccxt', {
      EXECUTION_MODE: 'testnet',
      EXECUTION_VENUE: 'binance',
      EXCHANGE_VENUES: 'binance',
      EXCHANGE_BINANCE_API_KEY: API_KEY,
      EXCHANGE_BINANCE_API_SECRET: API_SECRET,
      EXECUTION_VENUE_API_URL: venue.origin,
      EXECUTION_VENUE_TIMEOUT_MS: '1000',
      EXECUTION_VENUE_RECV_WINDOW_MS: '1000',
      EXECUTION_LEASE_MS: '3000',
      EXECUTION_RETRY_BACKOFF_MS: '100',
      // Reconciliation runs when the test asks (and once at start).
      EXECUTION_RECONCILE_MS: '3600000',
      APPROVAL_NOTIONAL_THRESHOLD: '100000000',
    });
    await h.start();
    await h.publishPrice('BTC/USDT', '65000');
  });

  afterAll(async () => {
    await h?.close();
    await venue?.stop();
  });

  const limitBuy = (quantity: string, price: string, extra: Partial<OrderParams> = {}): OrderParams => ({
    symbol: 'BTC/USDT',
    side: OrderSide.Buy,
    type: OrderType.Limit,
    quantity,
    price,
    ...extra,
  });

  const atVenue = (intentId: string) =>
    venue.orders().filter((o) => o.clientOrderId === clientOrderIdFor(intentId));

  it("publishes the venue's markets (tick and lot size, minimums from exchangeInfo) for the gateway and risk", async () => {
    const rows = await waitFor(async () => {
      const r = await h.pg.query<{
        symbol: string;
        tick_size: string;
        step_size: string;
        min_quantity: string;
      }>(
        `SELECT symbol, tick_size::text, step_size::text, min_quantity::text FROM execution.market_catalog
          WHERE venue = 'binance' ORDER BY symbol`,
      );
      return r.rows.length ? r.rows : undefined;
    });
    expect(rows.find((r) => r.symbol === 'BTC/USDT')).toEqual({
      symbol: 'BTC/USDT',
      tick_size: '0.01',
      step_size: '0.000001',
      min_quantity: '0.000001',
    });
    // The paper catalog is gone: only the traded venue's markets are validated against.
    expect((await h.pg.query(`SELECT 1 FROM execution.markets WHERE venue = 'paper'`)).rows).toHaveLength(0);
  });

  it('rests a GTC limit at the venue under its client order id, follows two partial fills into the position, then the last fill', async () => {
    const job = await h.send(h.accepted(limitBuy('0.5', '64000')));
    await h.statusIs(job.intentId, 'OPEN');
    const [placed] = atVenue(job.intentId);
    expect(placed).toMatchObject({ status: 'NEW', timeInForce: 'GTC' });
    expect(money(placed?.origQty ?? '0').toFixed()).toBe('0.5');

    venue.fillOrder(clientOrderIdFor(job.intentId), '0.1', '64000');
    await waitFor(async () => ((await h.order(job.intentId))?.filled_quantity === '0.1' ? true : undefined));
    expect((await h.order(job.intentId))?.status).toBe('PARTIALLY_FILLED');
    expect(await h.position('BTC/USDT')).toBe('0.1');
    venue.fillOrder(clientOrderIdFor(job.intentId), '0.15', '63990');
    await waitFor(async () => ((await h.order(job.intentId))?.filled_quantity === '0.25' ? true : undefined));
    expect(await h.position('BTC/USDT')).toBe('0.25');
    venue.fillOrder(clientOrderIdFor(job.intentId), '0.25', '64000');
    await h.statusIs(job.intentId, 'FILLED');
    expect(await h.position('BTC/USDT')).toBe('0.5');

    const history = (await h.history(job.intentId)).map((e) => e.status);
    expect(history).toEqual([
      'SUBMITTED',
      'PLACING',
      'OPEN',
      'PARTIALLY_FILLED',
      'PARTIALLY_FILLED',
      'FILLED',
    ]);
    const fills = await h.pg.query<{ price: string; quantity: string; fee: string; fee_currency: string }>(
      `SELECT price::text, quantity::text, fee::text, fee_currency FROM execution.fills WHERE order_id = $1 ORDER BY at, id`,
      [job.intentId],
    );
    // Binance charges a buy's fee in the base asset received (10 bps here).
    expect(fills.rows).toEqual([
      { price: '64000', quantity: '0.1', fee: '0.0001', fee_currency: 'BTC' },
      { price: '63990', quantity: '0.15', fee: '0.00015', fee_currency: 'BTC' },
      { price: '64000', quantity: '0.25', fee: '0.00025', fee_currency: 'BTC' },
    ]);
    // Each partial fill reaches risk with its fill (its position follows every one).
    const partial = await h.report(job.intentId, 'PARTIALLY_FILLED');
    expect(partial.fill).toMatchObject({ feeCurrency: 'BTC' });
    expect(venue.placements(clientOrderIdFor(job.intentId))).toBe(1);
  });

  it('records a venue rejection as VENUE_REJECTED with its reason code (insufficient funds), and reports it to risk', async () => {
    venue.rejectNext(-2010, 'Account has insufficient balance for requested action.');
    const job = await h.send(h.accepted(limitBuy('1', '60000')));
    await h.statusIs(job.intentId, 'VENUE_REJECTED');
    expect((await h.history(job.intentId)).at(-1)?.detail).toMatch(/^INSUFFICIENT_FUNDS: /);
    expect(await h.report(job.intentId, 'VENUE_REJECTED')).toMatchObject({
      reasonCode: 'INSUFFICIENT_FUNDS',
    });
    await h.audit(job.intentId, 'order.venue_rejected');
  });

  it('refuses a post-only limit that would take liquidity (POST_ONLY_WOULD_TAKE)', async () => {
    const job = await h.send(h.accepted(limitBuy('0.01', '66000', { postOnly: true })));
    await h.statusIs(job.intentId, 'VENUE_REJECTED');
    expect((await h.history(job.intentId)).at(-1)?.detail).toMatch(/^POST_ONLY_WOULD_TAKE: /);
  });

  it('expires the unfilled rest of an IOC limit after its partial fill', async () => {
    venue.setPrice('BTC/USDT', '65000', { liquidity: '0.2' });
    const job = await h.send(h.accepted(limitBuy('0.5', '65100', { timeInForce: TimeInForce.Ioc })));
    await h.statusIs(job.intentId, 'EXPIRED');
    expect((await h.order(job.intentId))?.filled_quantity).toBe('0.2');
    expect((await h.history(job.intentId)).map((e) => e.status)).toEqual([
      'SUBMITTED',
      'PLACING',
      'PARTIALLY_FILLED',
      'EXPIRED',
    ]);
    venue.setPrice('BTC/USDT', '65000', { liquidity: '1000' });
  });

  it('backs off when the venue answers a placement with a rate limit, looks the order up, then places it once', async () => {
    // No order is working now: the next request to the venue is this placement.
    venue.failNext('rate-limit');
    const job = await h.send(h.accepted(limitBuy('0.03', '61000')));
    await h.statusIs(job.intentId, 'OPEN');
    expect(venue.placements(clientOrderIdFor(job.intentId))).toBe(1);
    expect((await h.history(job.intentId)).map((e) => e.status)).toEqual([
      'SUBMITTED',
      'PLACING',
      'PLACING',
      'OPEN',
    ]);
    // Between the two placements the venue was asked for the order by its client order id.
    const calls = venue.requests().map((r) => `${r.method} ${r.path}`);
    const posts = calls.flatMap((c, i) => (c === 'POST /api/v3/order' ? [i] : []));
    expect(calls.slice(posts.at(-2), posts.at(-1))).toContain('GET /api/v3/order');
  });

  it('after a timeout that follows the venue’s acceptance, looks the order up by its client order id and never places it twice', async () => {
    venue.acceptButTimeOutNext(2500);
    const job = await h.send(h.accepted(limitBuy('0.02', '61000')));
    await h.statusIs(job.intentId, 'UNKNOWN');
    expect((await h.history(job.intentId)).at(-1)?.detail).toMatch(/^VENUE_ERROR: /);
    // After the request's timeout and receive window, the tick asks the venue: the order is there.
    await h.statusIs(job.intentId, 'OPEN');
    expect(venue.placements(clientOrderIdFor(job.intentId))).toBe(1);
    expect(atVenue(job.intentId)).toHaveLength(1);
    expect((await h.history(job.intentId)).map((e) => e.status)).toEqual([
      'SUBMITTED',
      'PLACING',
      'UNKNOWN',
      'OPEN',
    ]);
  });

  it('records a cancel by the venue itself as CANCELLED (CANCELLED_BY_VENUE), keeping the part that filled', async () => {
    const job = await h.send(h.accepted(limitBuy('0.04', '61000')));
    await h.statusIs(job.intentId, 'OPEN');
    venue.fillOrder(clientOrderIdFor(job.intentId), '0.01', '61000');
    await waitFor(async () => ((await h.order(job.intentId))?.filled_quantity === '0.01' ? true : undefined));
    venue.cancelByVenue(clientOrderIdFor(job.intentId));
    await h.statusIs(job.intentId, 'CANCELLED');
    expect((await h.history(job.intentId)).at(-1)?.detail).toMatch(/^CANCELLED_BY_VENUE: /);
  });

  it('cancels resting orders at the venue on a kill (the venue shows them CANCELED)', async () => {
    const job = await h.send(h.accepted(limitBuy('0.05', '60500')));
    await h.statusIs(job.intentId, 'OPEN');
    await h.sendCancelAll('kill switch: test');
    await h.statusIs(job.intentId, 'CANCELLED');
    expect(atVenue(job.intentId)[0]?.status).toBe('CANCELED');
    await h.setTradingState('ACTIVE');
  });

  it('reconciliation: finds an order and a balance change the desk did not make, records and audits them', async () => {
    const reconciliation = h.moduleRef().get(ReconciliationService);
    const clean = await reconciliation.reconcile('test');
    expect(clean.findings).toEqual([]);
    venue.placeExternalOrder({
      symbol: 'BTC/USDT',
      side: 'SELL',
      type: 'LIMIT',
      quantity: '0.3',
      price: '70000',
    });
    const before = venue.balanceOf('USDT');
    venue.setBalance('USDT', money(before.free).minus('1000').toFixed());
    const run = await reconciliation.reconcile('test');
    expect(run.findings.map((f) => f.kind).sort()).toEqual(['balance_drift', 'foreign_open_order']);
    expect(run.findings.find((f) => f.kind === 'balance_drift')?.figures).toMatchObject({ asset: 'USDT' });
    const recorded = await h.pg.query<{ outcome: string; findings: unknown[] }>(
      `SELECT outcome, findings FROM execution.reconciliation_reports WHERE id = $1`,
      [run.id],
    );
    expect(recorded.rows[0]).toMatchObject({ outcome: 'differences' });
    await h.audit(run.id, 'venue.reconciled');
    await h.audit(run.id, 'venue.reconciliation_finding');
    // The venue's balances are the desk's record from now on.
    const usdt = await h.pg.query<{ total: string }>(
      `SELECT total::text FROM execution.venue_balances WHERE venue = 'binance' AND asset = 'USDT'`,
    );
    const now = venue.balanceOf('USDT');
    expect(usdt.rows[0]?.total).toBe(money(now.free).plus(now.locked).toFixed());
  });

  it('a fill the venue made while execution was stopped is recorded when it comes back, the order placed once', async () => {
    const job = await h.send(h.accepted(limitBuy('0.06', '60000')));
    await h.statusIs(job.intentId, 'OPEN');
    await h.stop();
    venue.fillOrder(clientOrderIdFor(job.intentId), '0.06', '60000');
    await h.start();
    const reconciliation = h.moduleRef().get(ReconciliationService);
    // The start-up run (or the tick) may get there first: either way the venue's truth is applied.
    await reconciliation.reconcile('test');
    await h.statusIs(job.intentId, 'FILLED');
    expect(venue.placements(clientOrderIdFor(job.intentId))).toBe(1);
  });
});
