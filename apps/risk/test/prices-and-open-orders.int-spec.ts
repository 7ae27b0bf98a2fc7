import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ControlCommandKind,
  JobName,
  OrderSide,
  OrderStatus,
  OrderType,
  money,
  type Actor,
} from '@desk/contracts';
import { InvalidMarketPriceError, MarketPriceStore, REDIS_CLIENT } from '@desk/platform';
import { RiskHarness, TRADER } from './risk-harness';

/**
 * Prices risk may not trust, and a trader filling the book: each written as the attack. The two-man
 * threshold is low (25000) so an order valued at a bogus price would otherwise pass unheld.
 */
describe('untrustworthy prices and the open-order limit at risk (real Redis and PostgreSQL)', () => {
  let h: RiskHarness;

  beforeAll(async () => {
    h = await RiskHarness.create('risk-prices', {
      APPROVAL_NOTIONAL_THRESHOLD: '25000',
      RISK_MAX_OPEN_ORDERS: '3',
      RISK_MAX_POSITION_SHARE: '100',
      RISK_MAX_GROSS_EXPOSURE: '100000000',
    });
  });
  afterAll(() => h.close());

  /** What an old or compromised writer could leave in Redis, bypassing the store's checks. */
  async function forgeStoredPrice(symbol: string, stored: string): Promise<void> {
    await h.module!.get<Redis>(REDIS_CLIENT).hset(`${h.prefix}:market:last`, symbol, stored);
  }

  /** 10 BTC at market: 650000 at a real price, far over the two-man threshold and the max notional. */
  async function bigMarketBuy(actor: Actor = TRADER): Promise<Record<string, unknown>> {
    const i = await h.submit(h.intent({ symbol: 'BTC/USDT', quantity: '10' }, actor));
    return { id: i.intentId, ...(await h.decided(i.intentId)) };
  }

  it('the store refuses to publish a zero, negative, non-finite or future-dated price and keeps the last good one', async () => {
    const store = h.get(MarketPriceStore);
    const now = new Date();
    await store.publish([{ symbol: 'BTC/USDT', price: money('65000'), at: now }]);
    for (const bad of [
      { price: money('0'), at: now },
      { price: money('-1'), at: now },
      { price: money('Infinity'), at: now },
      { price: money('65000'), at: new Date(now.getTime() + 3_600_000) },
    ]) {
      await expect(store.publish([{ symbol: 'BTC/USDT', ...bad }])).rejects.toThrow(InvalidMarketPriceError);
    }
    const last = await store.get('BTC/USDT');
    expect(last && { price: last.price.toFixed(), at: last.at.getTime() }).toEqual({
      price: '65000',
      at: now.getTime(),
    });
  });

  it.each([
    ['zero', '0', () => Date.now(), /price 0 is not positive/],
    ['negative', '-1', () => Date.now(), /price -1 is not positive/],
    ['dated an hour ahead', '65000', () => Date.now() + 3_600_000, /in the future/],
  ])(
    'rejects an order valued at a stored %s price with MARKET_PRICE_INVALID, never accepting or holding it',
    async (_what, price, at, why) => {
      await forgeStoredPrice('BTC/USDT', `${price}|${at()}`);
      const d = await bigMarketBuy();
      expect(d).toMatchObject({
        status: OrderStatus.Rejected,
        reason_code: 'MARKET_PRICE_INVALID',
        reason: expect.stringMatching(why),
        notional: null,
      });
      await h.settle();
      expect((await h.jobs(h.queues.orders, JobName.OrderAccepted)).map((j) => j.id)).not.toContain(d.id);
      expect(
        (await h.jobs(h.queues.approvals, JobName.ApprovalRequested)).map(
          (j) => (j.data as { intentId: string }).intentId,
        ),
      ).not.toContain(d.id);
    },
  );

  it('judges age on the candle time: an old candle published now values no order', async () => {
    // Published just now by the feed, but the exchange's candle closed ten minutes ago.
    await h.publishPrices({ 'BTC/USDT': '65000' }, new Date(Date.now() - 600_000));
    const d = await bigMarketBuy();
    expect(d).toMatchObject({
      status: OrderStatus.Rejected,
      reason_code: 'NO_MARKET_PRICE',
      reason: expect.stringMatching(/last price of BTC\/USDT is \d+ ms old; max 30000 ms/),
    });
  });

  it('a fresh, sane price still holds the same order for two approvers (the check above was the price)', async () => {
    await h.publishPrices({ 'BTC/USDT': '2000' });
    // 20 × 2000 = 40000: under the max notional (50000), over the two-man threshold (25000).
    const someoneElse = { ...TRADER, id: '6f1c1a52-0000-4000-8000-0000000000ee' };
    const i = await h.submit(h.intent({ symbol: 'BTC/USDT', quantity: '20' }, someoneElse));
    expect(await h.decided(i.intentId)).toMatchObject({
      status: OrderStatus.PendingApproval,
      notional: '40000',
    });
  });

  it('rejects a trader over the open-order limit with MAX_OPEN_ORDERS; a final order frees a slot', async () => {
    await h.publishPrices({ 'BTC/USDT': '65000' });
    const trader: Actor = { ...TRADER, id: '6f1c1a52-0000-4000-8000-0000000000cc' };
    const resting = { symbol: 'BTC/USDT', type: OrderType.Limit, price: '60000', quantity: '0.01' };
    const open: string[] = [];
    for (let n = 0; n < 3; n++) {
      const i = await h.submit(h.intent(resting, trader));
      expect(await h.decided(i.intentId)).toMatchObject({ status: OrderStatus.Accepted });
      open.push(i.intentId);
    }
    // Another trader is not held back by this one's book.
    const other = await h.submit(
      h.intent(resting, { ...TRADER, id: '6f1c1a52-0000-4000-8000-0000000000dd' }),
    );
    expect(await h.decided(other.intentId)).toMatchObject({ status: OrderStatus.Accepted });

    const fourth = await h.submit(h.intent(resting, trader));
    expect(await h.decided(fourth.intentId)).toMatchObject({
      status: OrderStatus.Rejected,
      reason_code: 'MAX_OPEN_ORDERS',
      reason: 'this would be open order 4 of this trader; max 3 open orders',
    });
    const [rejected] = await h.auditsEventually(
      (e) => e.subject.id === fourth.intentId && e.action === 'order.rejected',
    );
    expect(rejected?.payload).toMatchObject({ reasonCode: 'MAX_OPEN_ORDERS', limit: '3', measured: '4' });

    // One of them is cancelled at execution: the trader may place one more.
    await h.report({
      intentId: open[0]!,
      symbol: 'BTC/USDT',
      side: OrderSide.Buy,
      status: OrderStatus.Cancelled,
    });
    const fifth = await h.submit(h.intent(resting, trader));
    expect(await h.decided(fifth.intentId)).toMatchObject({ status: OrderStatus.Accepted });
  });

  it('the open-order limit is changed through limits.set like every limit, and audited', async () => {
    const lower = h.command(ControlCommandKind.SetLimits, { limits: { max_open_orders: '2' } });
    expect(await (await h.send(lower)).isCompleted()).toBe(true);
    const r = await h.pg.query(
      `select value::text, updated_by from risk.limits where name = 'max_open_orders'`,
    );
    expect(r.rows[0]).toMatchObject({ value: '2' });
    // (At boot the environment's 3 replaced the migration's default 100: that change is audited too.)
    const [changed] = await h.auditsEventually(
      (e) => e.action === 'risk.limits_changed' && JSON.stringify(e.payload).includes('"to":"2"'),
    );
    expect(changed?.payload).toMatchObject({ changes: { max_open_orders: { from: '3', to: '2' } } });
  });
});
