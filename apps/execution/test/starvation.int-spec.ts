import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OrderSide, OrderType, type OrderParams } from '@desk/contracts';
import { waitFor } from '@desk/testing';
import { ExecutionHarness } from './execution-harness';

/** More resting orders than the tick reads in one page (200). */
const RESTING = 205;

/**
 * The flood: a book full of far-away resting limit orders, recorded before a stop-loss close and a later
 * order whose price is then reached. Each tick must still get to both: every active order is looked at,
 * risk's reduce-only closes first.
 */
describe('no starvation in the execution tick (real Redis and PostgreSQL, own database)', () => {
  let h: ExecutionHarness;

  beforeAll(async () => {
    h = await ExecutionHarness.create('exec-starve');
    await h.start();
  });
  afterAll(() => h.close());

  const btc = (over: Partial<OrderParams>): OrderParams => ({
    symbol: 'BTC/USDT',
    side: OrderSide.Buy,
    type: OrderType.Market,
    quantity: '0.1',
    ...over,
  });

  async function count(status: string): Promise<number> {
    const r = await h.pg.query<{ n: number }>(
      `select count(*)::int as n from execution.orders where status = $1`,
      [status],
    );
    return r.rows[0]?.n ?? 0;
  }

  it(`fills a stop-loss close and a later order on the next tick behind ${RESTING} resting far-away limit orders`, async () => {
    await h.publishPrice('BTC/USDT', '65000');
    const entry = await h.send(h.accepted(btc({ quantity: '0.1' })));
    await h.statusIs(entry.intentId, 'FILLED');
    expect(await h.position('BTC/USDT')).toBe('0.1');

    // The flood: limit buys far below the market, recorded (and resting) before anything else below.
    const far = btc({ type: OrderType.Limit, price: '1000', quantity: '0.001' });
    for (let sent = 0; sent < RESTING; sent++) await h.send(h.accepted(far));
    await waitFor(async () => ((await count('OPEN')) === RESTING ? true : undefined), {
      what: `${RESTING} resting orders`,
      timeoutMs: 90_000,
    });

    // The venue's last candle is a minute old (published now): nothing can fill on it, so the close and the
    // later order are placed and rest, to be found only by the tick.
    await h.publishPrice('BTC/USDT', '63900', new Date(Date.now() - 60_000));
    const stopLoss = await h.send(
      h.accepted(btc({ side: OrderSide.Sell, quantity: '0.1' }), {
        actor: { type: 'service', id: 'risk' },
        reduceOnly: true,
      }),
    );
    const later = await h.send(h.accepted(btc({ type: OrderType.Limit, price: '64000', quantity: '0.001' })));
    await h.statusIs(stopLoss.intentId, 'OPEN');
    await h.statusIs(later.intentId, 'OPEN');
    expect((await h.history(stopLoss.intentId)).at(-1)).toEqual({
      status: 'OPEN',
      detail: 'market price is stale',
    });

    // A fresh price: the close fills (at the market) and so does the later limit buy (64000 ≥ 63900).
    await h.publishPrice('BTC/USDT', '63900');
    await h.statusIs(stopLoss.intentId, 'FILLED');
    await h.statusIs(later.intentId, 'FILLED');
    await waitFor(async () => ((await h.position('BTC/USDT')) === '0.001' ? true : undefined), {
      what: 'the position closed, then the later buy',
    });
    // The flood still rests, untouched.
    expect(await count('OPEN')).toBe(RESTING);
  });
});
