import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { OrderSide, OrderType, money, type OrderParams } from '@desk/contracts';
import { Client } from 'pg';
import { waitFor } from '@desk/testing';
import type { ExchangeAdapter } from '../src/modules/exchange/exchange-adapter';
import { VenueError, clientOrderIdFor } from '../src/modules/exchange/venue-error';
import { OrderExecutionService } from '../src/modules/orders/order-execution.service';
import { ExecutionHarness, filledReport, scriptedVenue } from './execution-harness';

const btc = (quantity: string, side = OrderSide.Buy): OrderParams => ({
  symbol: 'BTC/USDT',
  side,
  type: OrderType.Market,
  quantity,
});

describe('execution: the two-man rule, the trading state and the kill switch (own database)', () => {
  let h: ExecutionHarness;

  beforeAll(async () => {
    // Default approval threshold: 25000.
    h = await ExecutionHarness.create('execctl');
    await h.start();
    await h.publishPrice('BTC/USDT', '65000');
  });

  afterAll(async () => {
    await h?.close();
  });

  beforeEach(async () => {
    await h.setTradingState('ACTIVE');
    await h.publishPrice('BTC/USDT', '65000');
  });

  describe('critical orders (two-man rule), whatever the job claims', () => {
    it('refuses a forged critical order without an approval: CANCELLED, APPROVAL_INVALID, audited', async () => {
      const forged = await h.send(h.accepted(btc('0.5'))); // 32500 at 65000
      expect(await h.statusIs(forged.intentId, 'CANCELLED')).toMatchObject({ filled_quantity: '0' });
      expect(await h.history(forged.intentId)).toEqual([
        {
          status: 'CANCELLED',
          detail:
            'APPROVAL_INVALID: notional 32500 over the approval threshold 25000: critical order without an approval',
        },
      ]);
      expect(await h.report(forged.intentId, 'CANCELLED')).toMatchObject({ reasonCode: 'APPROVAL_INVALID' });
      const refused = await h.audit(forged.intentId, 'order.refused');
      expect(refused).toMatchObject({
        actor: { type: 'service', id: 'execution' },
        payload: {
          reasonCode: 'APPROVAL_INVALID',
          notional: '32500',
          threshold: '25000',
          requestedBy: forged.actor,
        },
      });
      expect(await h.position('BTC/USDT')).toBe('0');
    });

    it('refuses a forged critical order with a made-up approval id', async () => {
      const approvalId = randomUUID();
      const forged = await h.send(h.accepted(btc('0.5'), { approvalId }));
      await h.statusIs(forged.intentId, 'CANCELLED');
      expect((await h.history(forged.intentId))[0]?.detail).toBe(
        `APPROVAL_INVALID: notional 32500 over the approval threshold 25000: approval ${approvalId} does not exist`,
      );
      expect((await h.audit(forged.intentId, 'order.refused')).payload).toMatchObject({ approvalId });
    });

    it('places a critical order released by a valid approval of exactly this order', async () => {
      const job = h.accepted(btc('0.5'));
      const { approvalId } = await h.approval(job.intentId, job.order);
      await h.send({ ...job, approvalId });
      expect(await h.statusIs(job.intentId, 'FILLED')).toMatchObject({ approval_id: approvalId });
      expect(await h.position('BTC/USDT')).toBe('0.5');
    });

    it.each([
      [
        'approved for other parameters',
        { approvedOrder: btc('0.05') },
        /was given for different order parameters/,
      ],
      ['with one approval of two required', { approvers: 1 }, /has 1 valid approvals of 2 required/],
      ['not executed (still pending)', { status: 'pending' }, /is pending, not executed/],
    ])('refuses a critical order whose approval is %s', async (_label, opts, why) => {
      const job = h.accepted(btc('0.5'));
      const { approvalId } = await h.approval(job.intentId, job.order, opts);
      await h.send({ ...job, approvalId });
      await h.statusIs(job.intentId, 'CANCELLED');
      expect((await h.history(job.intentId))[0]?.detail).toMatch(why);
    });

    it("refuses an approval whose approver's key was revoked before execution", async () => {
      const job = h.accepted(btc('0.5'));
      const { approvalId, keyIds } = await h.approval(job.intentId, job.order);
      await h.pg.query(`UPDATE gateway.api_keys SET status = 'revoked', revoked_at = now() WHERE id = $1`, [
        keyIds[0],
      ]);
      await h.send({ ...job, approvalId });
      await h.statusIs(job.intentId, 'CANCELLED');
      expect((await h.history(job.intentId))[0]?.detail).toMatch(/has 1 valid approvals of 2 required/);
    });

    it("refuses an approval given for another order, even with this order's parameters", async () => {
      const other = h.accepted(btc('0.5'));
      const { approvalId } = await h.approval(other.intentId, other.order);
      const job = await h.send(h.accepted(btc('0.5'), { approvalId }));
      await h.statusIs(job.intentId, 'CANCELLED');
      expect((await h.history(job.intentId))[0]?.detail).toMatch(/is for another order/);
    });

    it('places an order at or under the threshold without any approval', async () => {
      const small = await h.send(h.accepted(btc('0.3'))); // 19500
      await h.statusIs(small.intentId, 'FILLED');
    });
  });

  describe('the trading state, re-read before every placement and fill', () => {
    it('does not place an order accepted before a halt: CANCELLED with TRADING_HALTED', async () => {
      await h.setTradingState('HALTED');
      const queued = await h.send(h.accepted(btc('0.01')));
      await h.statusIs(queued.intentId, 'CANCELLED');
      expect(await h.history(queued.intentId)).toEqual([
        { status: 'CANCELLED', detail: 'TRADING_HALTED: trading is halted: the order is not placed' },
      ]);
      expect(await h.report(queued.intentId, 'CANCELLED')).toMatchObject({ reasonCode: 'TRADING_HALTED' });
      expect((await h.audit(queued.intentId, 'order.refused')).payload).toMatchObject({
        reasonCode: 'TRADING_HALTED',
      });
    });

    it('never fills a resting order after a halt, even when the market crosses its limit', async () => {
      const limit = await h.send(
        h.accepted({
          symbol: 'BTC/USDT',
          side: OrderSide.Buy,
          type: OrderType.Limit,
          quantity: '0.01',
          price: '60000',
        }),
      );
      await h.statusIs(limit.intentId, 'OPEN');
      await h.setTradingState('HALTED');
      await h.publishPrice('BTC/USDT', '59000');
      await h.statusIs(limit.intentId, 'CANCELLED'); // the tick loop, without waiting for the cancel-all
      expect((await h.history(limit.intentId)).map((e) => e.status)).toEqual([
        'SUBMITTED',
        'PLACING',
        'OPEN',
        'CANCELLED',
      ]);
      expect((await h.order(limit.intentId))?.filled_quantity).toBe('0');
      // The tick records the halt's own reason (risk.trading_state.reason), as the kill's cancel-all would.
      expect((await h.history(limit.intentId)).at(-1)?.detail).toBe('TRADING_HALTED: test');
    });

    it("cancels every open order on risk's cancel-all, but not risk's own reduce-only closes", async () => {
      // The desk is still ACTIVE here: the cancel-all alone cancels them (the fast path of a kill).
      const limits = [];
      for (const price of ['50000', '51000']) {
        limits.push(
          await h.send(
            h.accepted({
              symbol: 'BTC/USDT',
              side: OrderSide.Buy,
              type: OrderType.Limit,
              quantity: '0.01',
              price,
            }),
          ),
        );
      }
      for (const l of limits) await h.statusIs(l.intentId, 'OPEN');
      const close = await h.send(
        h.accepted(
          {
            symbol: 'BTC/USDT',
            side: OrderSide.Sell,
            type: OrderType.Limit,
            quantity: '0.1',
            price: '90000',
          },
          {
            reduceOnly: true,
          },
        ),
      );
      await h.statusIs(close.intentId, 'OPEN');

      const cancelAll = await h.sendCancelAll('kill drill');
      expect(await h.cancelAllResult(cancelAll)).toEqual({ cancelled: 2 });
      for (const l of limits) {
        await h.statusIs(l.intentId, 'CANCELLED');
        expect((await h.history(l.intentId)).at(-1)).toEqual({
          status: 'CANCELLED',
          detail: 'TRADING_HALTED: kill drill',
        });
        expect(await h.report(l.intentId, 'CANCELLED')).toMatchObject({ reasonCode: 'TRADING_HALTED' });
        expect((await h.audit(l.intentId, 'order.cancelled')).payload).toMatchObject({
          reasonCode: 'TRADING_HALTED',
          commandId: cancelAll.commandId,
          requestedBy: { type: 'operator', id: 'rhea' },
        });
      }
      expect((await h.order(close.intentId))?.status).toBe('OPEN');
      await h.module!.get(OrderExecutionService).cancelAll(cancelAll); // a redelivery cancels nothing more
    });

    it("does not skip an order the tick loop is working on when risk's cancel-all arrives", async () => {
      const limit = await h.send(
        h.accepted({
          symbol: 'BTC/USDT',
          side: OrderSide.Buy,
          type: OrderType.Limit,
          quantity: '0.01',
          price: '50000',
        }),
      );
      await h.statusIs(limit.intentId, 'OPEN');
      // Another session holds the order's row lock, as a tick does while it checks the order at the venue.
      const tick = new Client({ connectionString: h.db.url });
      await tick.connect();
      try {
        await tick.query('BEGIN');
        await tick.query('SELECT 1 FROM execution.orders WHERE id = $1 FOR UPDATE', [limit.intentId]);
        const cancelAll = await h.sendCancelAll('kill during a tick');
        // The cancel-all waits for the lock instead of passing the order by.
        await waitFor(
          async () => {
            const r = await h.pg.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock'`,
            );
            return r.rows[0]!.n > 0 ? true : undefined;
          },
          { what: 'the cancel-all to wait for the row lock' },
        );
        await tick.query('COMMIT');
        expect(await h.cancelAllResult(cancelAll)).toEqual({ cancelled: 1 });
        await h.statusIs(limit.intentId, 'CANCELLED');
        expect((await h.history(limit.intentId)).at(-1)).toEqual({
          status: 'CANCELLED',
          detail: 'TRADING_HALTED: kill during a tick',
        });
      } finally {
        await tick.end();
      }
    });

    it('while HALTED places a reduce-only order that reduces the position, and refuses one that would not', async () => {
      const before = await h.position('BTC/USDT');
      expect(Number(before)).toBeGreaterThan(0.2);
      await h.setTradingState('HALTED');
      const reduce = await h.send(h.accepted(btc('0.1', OrderSide.Sell), { reduceOnly: true }));
      await h.statusIs(reduce.intentId, 'FILLED');
      const flip = await h.send(h.accepted(btc('100', OrderSide.Sell), { reduceOnly: true }));
      await h.statusIs(flip.intentId, 'CANCELLED');
      expect((await h.history(flip.intentId)).at(-1)?.detail).toBe(
        'REDUCE_ONLY: reduce-only order would not reduce the position',
      );
      const add = await h.send(h.accepted(btc('0.1'), { reduceOnly: true }));
      await h.statusIs(add.intentId, 'CANCELLED');
    });

    it('never holds a reduce-only close for approval: it cannot add exposure', async () => {
      await h.setTradingState('HALTED');
      // 0.7 held; the resting reduce-only sell of 0.1 (above) may fill first, so close the other 0.6.
      expect(await h.position('BTC/USDT')).toBe('0.7');
      await h.publishPrice('BTC/USDT', '650000'); // 0.6 x 650000 = 390000: far over the threshold
      const close = await h.send(h.accepted(btc('0.6', OrderSide.Sell), { reduceOnly: true }));
      await h.statusIs(close.intentId, 'FILLED');
      await waitFor(async () => ((await h.position('BTC/USDT')) === '0' ? true : undefined), {
        what: 'flat',
      });
    });

    it('does not let an oversized reduce-only order knock out a reduce-only close already working', async () => {
      const open = await h.send(h.accepted(btc('0.3')));
      await h.statusIs(open.intentId, 'FILLED');
      const working = await h.send(
        h.accepted(
          {
            symbol: 'BTC/USDT',
            side: OrderSide.Sell,
            type: OrderType.Limit,
            quantity: '0.1',
            price: '90000',
          },
          { reduceOnly: true },
        ),
      );
      await h.statusIs(working.intentId, 'OPEN');
      await h.setTradingState('HALTED');
      // A later reduce-only sell far larger than the position, recorded but not yet worked on: its row is
      // held by another session, as while another instance is placing it.
      const oversized = randomUUID();
      const other = new Client({ connectionString: h.db.url });
      await other.connect();
      try {
        await other.query(
          `INSERT INTO execution.orders (id, venue, symbol, side, type, quantity, status, correlation_id, reduce_only,
             client_order_id)
           VALUES ($1::uuid, 'paper', 'BTC/USDT', 'sell', 'market', 100, 'SUBMITTED', 'test', true, replace($1::text, '-', ''))`,
          [oversized],
        );
        await other.query('BEGIN');
        await other.query('SELECT id FROM execution.orders WHERE id = $1 FOR UPDATE', [oversized]);
        await h.publishPrice('BTC/USDT', '95000');
        await h.statusIs(working.intentId, 'FILLED');
        expect(await h.position('BTC/USDT')).toBe('0.2');
        await other.query('COMMIT');
      } finally {
        await other.end();
      }
      await h.statusIs(oversized, 'CANCELLED');
      expect((await h.history(oversized)).at(-1)?.detail).toBe(
        'REDUCE_ONLY: reduce-only order would not reduce the position',
      );
      const rest = await h.send(h.accepted(btc('0.2', OrderSide.Sell), { reduceOnly: true }));
      await h.statusIs(rest.intentId, 'FILLED');
      expect(await h.position('BTC/USDT')).toBe('0');
    });

    it('while REDUCING places only orders that reduce the position', async () => {
      const open = await h.send(h.accepted(btc('0.2')));
      await h.statusIs(open.intentId, 'FILLED');
      await h.setTradingState('REDUCING');
      const more = await h.send(h.accepted(btc('0.1')));
      await h.statusIs(more.intentId, 'CANCELLED');
      expect((await h.history(more.intentId)).at(-1)?.detail).toMatch(/^REDUCE_ONLY: trading is reducing/);
      const less = await h.send(h.accepted(btc('0.15', OrderSide.Sell)));
      await h.statusIs(less.intentId, 'FILLED');
      expect(await h.position('BTC/USDT')).toBe('0.05');
    });
  });
});

describe('execution: a venue that fails to take orders', () => {
  let h: ExecutionHarness;
  let failing = true;

  beforeAll(async () => {
    h = await ExecutionHarness.create('execvenue', {
      APPROVAL_NOTIONAL_THRESHOLD: '1000000',
      EXECUTION_VENUE_TIMEOUT_MS: '200',
      EXECUTION_VENUE_RECV_WINDOW_MS: '0',
      EXECUTION_RETRY_BACKOFF_MS: '50',
    });
    const venue: ExchangeAdapter = {
      ...scriptedVenue('flaky', false),
      placeOrder: () => Promise.reject(new VenueError('unknown', 'venue timeout after 5000 ms')),
      fetchOrder: (order) =>
        failing
          ? Promise.reject(new VenueError('not-taken', 'venue unreachable'))
          : Promise.resolve(filledReport(order, order.price ?? money('65000'))),
    };
    await h.start(venue);
    // Without a market price a market order's notional is unknown, hence critical: price it.
    await h.publishPrice('BTC/USDT', '65000');
  });

  afterAll(async () => {
    await h?.close();
  });

  it('records the order UNKNOWN with VENUE_ERROR, reports it (the error-rate breaker counts it), and reconciles it later', async () => {
    const job = await h.send(h.accepted(btc('0.01')));
    await h.statusIs(job.intentId, 'UNKNOWN');
    expect(await h.history(job.intentId)).toEqual([
      { status: 'SUBMITTED', detail: null },
      { status: 'PLACING', detail: null },
      { status: 'UNKNOWN', detail: 'VENUE_ERROR: venue timeout after 5000 ms' },
    ]);
    expect(await h.report(job.intentId, 'UNKNOWN')).toMatchObject({
      reasonCode: 'VENUE_ERROR',
      detail: 'VENUE_ERROR: venue timeout after 5000 ms',
    });
    await h.audit(job.intentId, 'order.unknown');
    // The tick loop asks the venue about the order (never places it twice) until it answers.
    failing = false;
    await h.statusIs(job.intentId, 'FILLED');
  });
});

describe('execution: a venue that trades real money (own database; the exchange is a stand-in)', () => {
  let h: ExecutionHarness;
  const placed: string[] = [];

  beforeAll(async () => {
    h = await ExecutionHarness.create('execlive');
    // The exchange itself is outside the platform: a stand-in that fills everything it is given.
    const venue: ExchangeAdapter = {
      ...scriptedVenue('binance', true),
      placeOrder: (order) => {
        placed.push(order.clientOrderId);
        return Promise.resolve(filledReport(order, money('65000')));
      },
    };
    await h.start(venue);
    await h.publishPrice('BTC/USDT', '65000');
  });

  afterAll(async () => {
    await h?.close();
  });

  /** What risk records when two approvers enable live trading on a venue, or anyone switches it off. */
  async function setLive(live: boolean): Promise<void> {
    await h.pg.query(
      `INSERT INTO risk.venues (venue, live, approval_id, reason, set_by_type, set_by_id, command_id)
       VALUES ('binance', $1, CASE WHEN $1 THEN gen_random_uuid() END, 'test', 'operator', 'alice', gen_random_uuid())
       ON CONFLICT (venue) DO UPDATE SET live = EXCLUDED.live, approval_id = EXCLUDED.approval_id`,
      [live],
    );
  }

  async function approvedOrder(quantity: string) {
    const job = h.accepted(btc(quantity));
    const { approvalId } = await h.approval(job.intentId, job.order);
    return { ...job, approvalId };
  }

  it('places nothing until two approvers have enabled live trading on the venue, even an approved order', async () => {
    const job = await h.send(await approvedOrder('0.01'));
    await h.statusIs(job.intentId, 'CANCELLED');
    expect(await h.history(job.intentId)).toEqual([
      { status: 'SUBMITTED', detail: null },
      {
        status: 'CANCELLED',
        detail: 'VENUE_NOT_LIVE: live trading on binance is not enabled (two approvers must enable it)',
      },
    ]);
    expect(await h.report(job.intentId, 'CANCELLED')).toMatchObject({ reasonCode: 'VENUE_NOT_LIVE' });
    expect(placed).not.toContain(clientOrderIdFor(job.intentId));
  });

  it('once enabled, treats every order as critical: a small one without approval is refused, an approved one fills', async () => {
    await setLive(true);
    const unapproved = await h.send(h.accepted(btc('0.001'))); // 65: far below the 25000 threshold
    await h.statusIs(unapproved.intentId, 'CANCELLED');
    expect((await h.history(unapproved.intentId))[0]?.detail).toMatch(
      /^APPROVAL_INVALID: .*critical order without an approval/,
    );
    const refused = await h.audit(unapproved.intentId, 'order.refused');
    expect(refused.payload).toMatchObject({ reasonCode: 'APPROVAL_INVALID', venue: 'binance' });

    const approved = await h.send(await approvedOrder('0.001'));
    await h.statusIs(approved.intentId, 'FILLED');
    expect(placed.filter((id) => id === clientOrderIdFor(approved.intentId))).toHaveLength(1);
    expect(placed).not.toContain(clientOrderIdFor(unapproved.intentId));
  });

  it('switched off, places nothing more', async () => {
    await setLive(false);
    const job = await h.send(await approvedOrder('0.001'));
    await h.statusIs(job.intentId, 'CANCELLED');
    expect((await h.history(job.intentId)).at(-1)?.detail).toMatch(/^VENUE_NOT_LIVE:/);
    expect(placed).not.toContain(clientOrderIdFor(job.intentId));
  });
});
