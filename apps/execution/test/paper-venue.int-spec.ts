import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OrderSide, OrderType, TimeInForce, money, type OrderParams } from '@desk/contracts';
import { finishedJob, waitFor } from '@desk/testing';
import {
  EXCHANGE_ADAPTER,
  type ExchangeAdapter,
  type ExchangeOrder,
} from '../src/modules/exchange/exchange-adapter';
import { ReconciliationService } from '../src/modules/reconciliation/reconciliation.service';
import { ExecutionHarness } from './execution-harness';

/**
 * The paper venue speaks the same order life as a real one (docs/adr/0023): partial fills against the
 * liquidity on offer, resting limits, IOC/FOK expiry, post-only refusal, cancels; and an operator's cancel
 * reaches it like any venue.
 */
describe('the paper venue: partial fills, expiry, post-only and operator cancels (own database)', () => {
  let h: ExecutionHarness;

  beforeAll(async () => {
    h = await ExecutionHarness.create('execpaper', {
      // 100000 USDT of liquidity per match: 2 BTC at 65000 fills in two parts.
      PAPER_LIQUIDITY_NOTIONAL: '100000',
      PAPER_SLIPPAGE_BPS: '0',
      APPROVAL_NOTIONAL_THRESHOLD: '100000000',
      EXECUTION_RECONCILE_MS: '3600000',
    });
    await h.start();
    await h.publishPrice('BTC/USDT', '65000');
  });

  afterAll(async () => {
    await h?.close();
  });

  const btc = (over: Partial<OrderParams>): OrderParams => ({
    symbol: 'BTC/USDT',
    side: OrderSide.Buy,
    type: OrderType.Market,
    quantity: '1',
    ...over,
  });

  it('fills an order larger than the liquidity in two parts; the position follows each part', async () => {
    const job = await h.send(h.accepted(btc({ quantity: '2' })));
    await h.statusIs(job.intentId, 'FILLED');
    expect((await h.history(job.intentId)).map((e) => e.status)).toEqual([
      'SUBMITTED',
      'PLACING',
      'PARTIALLY_FILLED',
      'FILLED',
    ]);
    const fills = await h.pg.query<{ quantity: string }>(
      `SELECT quantity::text FROM execution.fills WHERE order_id = $1 ORDER BY at, id`,
      [job.intentId],
    );
    // 100000 / 65000 = 1.538461… → 1.538461 (lot 0.000001) on placement, the rest on the next tick.
    expect(fills.rows.map((r) => r.quantity)).toEqual(['1.538461', '0.461539']);
    expect(await h.position('BTC/USDT')).toBe('2');
  });

  it('expires an IOC limit that does not cross, and refuses a post-only limit that would take', async () => {
    const ioc = await h.send(
      h.accepted(btc({ type: OrderType.Limit, price: '60000', timeInForce: TimeInForce.Ioc })),
    );
    await h.statusIs(ioc.intentId, 'EXPIRED');
    expect((await h.history(ioc.intentId)).at(-1)?.detail).toBe('limit price not reached');
    const maker = await h.send(h.accepted(btc({ type: OrderType.Limit, price: '66000', postOnly: true })));
    await h.statusIs(maker.intentId, 'VENUE_REJECTED');
    expect((await h.history(maker.intentId)).at(-1)?.detail).toMatch(/^POST_ONLY_WOULD_TAKE: /);
  });

  it("cancels a resting order on an operator's request the gateway recorded; the history names who", async () => {
    const job = await h.send(h.accepted(btc({ type: OrderType.Limit, price: '60000', quantity: '0.5' })));
    await h.statusIs(job.intentId, 'OPEN');
    const cancel = await h.sendCancelRequest({ kind: 'order', intentId: job.intentId });
    await h.statusIs(job.intentId, 'CANCELLED');
    expect((await h.history(job.intentId)).at(-1)?.detail).toBe('CANCELLED_BY_OPERATOR: cancelled by olga');
    const audit = await h.audit(job.intentId, 'order.cancelled');
    expect(audit.payload).toMatchObject({
      requestId: cancel.requestId,
      requestedBy: { type: 'operator', id: 'olga' },
    });
    const receipt = await h.pg.query(
      `SELECT cancelled FROM execution.cancel_request_receipts WHERE request_id = $1`,
      [cancel.requestId],
    );
    expect(receipt.rows).toEqual([{ cancelled: 1 }]);
  });

  it('cancels every working order of a symbol on one request, and nothing on a request the gateway never recorded', async () => {
    const a = await h.send(h.accepted(btc({ type: OrderType.Limit, price: '59000', quantity: '0.1' })));
    const b = await h.send(h.accepted(btc({ type: OrderType.Limit, price: '58000', quantity: '0.1' })));
    await h.statusIs(a.intentId, 'OPEN');
    await h.statusIs(b.intentId, 'OPEN');
    const forged = await h.sendCancelRequest({ kind: 'symbol', symbol: 'BTC/USDT' }, { record: false });
    await finishedJob(h.queues.cancels, `${forged.requestId}.cancel`, 'failed');
    expect((await h.order(a.intentId))?.status).toBe('OPEN');
    expect((await h.order(b.intentId))?.status).toBe('OPEN');
    await h.sendCancelRequest({ kind: 'symbol', symbol: 'BTC/USDT' });
    await h.statusIs(a.intentId, 'CANCELLED');
    await h.statusIs(b.intentId, 'CANCELLED');
  });

  it('an order cancelled before it reached execution is never placed', async () => {
    const job = h.accepted(btc({ quantity: '0.1' }));
    const cancel = await h.sendCancelRequest({ kind: 'order', intentId: job.intentId });
    await finishedJob(h.queues.cancels, `${cancel.requestId}.cancel`, 'completed');
    await h.send(job);
    await h.statusIs(job.intentId, 'CANCELLED');
    expect((await h.history(job.intentId)).map((e) => e.status)).toEqual(['CANCELLED']);
    expect((await h.history(job.intentId)).at(-1)?.detail).toMatch(
      /^CANCELLED_BY_OPERATOR: cancelled by olga before/,
    );
  });

  it('reconciliation records the paper account balances (starting balance moved by the fills)', async () => {
    await h.moduleRef().get(ReconciliationService).reconcile('test');
    const balances = await waitFor(async () => {
      const r = await h.pg.query<{ asset: string; total: string }>(
        `SELECT asset, total::text FROM execution.venue_balances WHERE venue = 'paper' ORDER BY asset`,
      );
      return r.rows.length ? r.rows : undefined;
    });
    expect(balances.find((b) => b.asset === 'BTC')?.total).toBe('2');
  });

  // Runs last: its fill moves the paper balances the test above reads.
  it('answers a lookup as of when the desk asked: a price that came later fills the order on the next lookup, not this one', async () => {
    const venue = h.moduleRef().get<symbol, ExchangeAdapter>(EXCHANGE_ADAPTER);
    await h.publishPrice('ETH/USDT', '3000', new Date(Date.now() - 1000));
    const order: ExchangeOrder = {
      id: 'asked-before-the-cross',
      clientOrderId: 'asked-before-the-cross',
      venueOrderId: null,
      symbol: 'ETH/USDT',
      side: OrderSide.Buy,
      type: OrderType.Limit,
      quantity: money('0.1'),
      price: money('2900'),
      timeInForce: TimeInForce.Gtc,
      postOnly: false,
    };
    expect((await venue.placeOrder(order)).status).toBe('open');
    // The desk decided to look the order up (before a halt, say); then the market crossed its limit.
    const askedAt = new Date();
    await h.publishPrice('ETH/USDT', '2800', new Date(askedAt.getTime() + 5));
    const stale = await venue.fetchOrder(order, money('0'), askedAt);
    expect(stale?.status).toBe('open');
    expect(stale?.filledQuantity.toString()).toBe('0');
    const next = await venue.fetchOrder(order, money('0'), new Date(askedAt.getTime() + 10));
    expect(next?.status).toBe('filled');
    expect(next?.fills.map((f) => f.price.toString())).toEqual(['2800']);
  });
});
