import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ControlCommandKind,
  JobName,
  OrderSide,
  OrderStatus,
  money,
  toWire,
  type OrderAccepted,
} from '@desk/contracts';
import { uuidFromHash } from '@desk/platform';
import { RiskMonitor } from '../src/modules/monitor/risk-monitor';
import { RiskHarness } from './risk-harness';

describe('risk: automatic breakers and stop-loss (real Redis and PostgreSQL, own database)', () => {
  let h: RiskHarness;
  let clock = Date.now();

  beforeAll(async () => {
    h = await RiskHarness.create('riskbrk', {
      RISK_BREAKER_CONSECUTIVE: '3',
      RISK_DRAWDOWN_THRESHOLD: '0.1',
      RISK_ERROR_RATE_THRESHOLD: '0.5',
      RISK_ERROR_RATE_MIN_ORDERS: '5',
      RISK_VOLATILITY_THRESHOLD: '0.05',
      RISK_VOLATILITY_MIN_SYMBOLS: '2',
      RISK_STOP_LOSS_PCT: 'SOL/USDT=0.1',
    });
    // Prices are stamped from here: a set-up slower than RISK_MAX_PRICE_AGE_MS (a loaded machine) must not
    // make the first ones stale.
    clock = Date.now();
    await prices({ 'BTC/USDT': '65000', 'ETH/USDT': '3200', 'SOL/USDT': '150' });
    await tick();
  });

  afterAll(async () => {
    await h?.close();
  });

  /** New prices, each with a new timestamp (a new tick of the market). */
  async function prices(p: Record<string, string>): Promise<void> {
    clock += 10;
    await h.publishPrices(p, new Date(clock));
  }

  async function tick(): Promise<void> {
    await h.get(RiskMonitor).tick();
  }

  async function state(): Promise<string> {
    return String((await h.tradingState()).state);
  }

  async function resume(): Promise<void> {
    await h.send(await h.approvedCommand(ControlCommandKind.Resume));
  }

  const warnings = (breaker: string) =>
    h.auditsEventually(
      (e) => e.action === 'risk.breaker_warning' && e.subject.id === breaker,
      1,
      `${breaker} warning`,
    );

  it('stop-loss: closes a position that crosses its stop with one reduce-only order, audited', async () => {
    await h.filled('SOL/USDT', OrderSide.Buy, '10', '150');
    await prices({ 'SOL/USDT': '135.01' });
    await tick();
    const intentId = uuidFromHash('stop_loss:SOL/USDT:1');
    expect(await h.queues.orders.getJob(intentId)).toBeUndefined();

    await prices({ 'SOL/USDT': '134' });
    await tick();
    await tick();
    await h.jobsEventually(h.queues.orders, JobName.OrderAccepted, 1);
    await h.settle();
    const closes = await h.jobs(h.queues.orders, JobName.OrderAccepted);
    expect(closes.map((j) => j.data as OrderAccepted)).toEqual([
      expect.objectContaining({
        intentId,
        reduceOnly: true,
        actor: { type: 'service', id: 'risk' },
        order: { symbol: 'SOL/USDT', side: 'sell', type: 'market', quantity: '10' },
      }),
    ]);
    expect(await h.decided(intentId)).toMatchObject({
      status: 'ACCEPTED',
      source: 'risk',
      reduce_only: true,
    });
    const [triggered] = await h.auditsEventually((e) => e.action === 'risk.stop_loss_triggered');
    expect(triggered).toMatchObject({
      subject: { type: 'position', id: 'SOL/USDT' },
      payload: {
        stopLossPct: '0.1',
        stopPrice: '135',
        lastPrice: '134',
        averagePrice: '150',
        position: '10',
        intentId,
      },
    });
    // The close fills: the position is flat and the stop is gone.
    await h.report({
      intentId,
      symbol: 'SOL/USDT',
      side: OrderSide.Sell,
      status: OrderStatus.Filled,
      fill: { fillId: `${intentId}-1`, price: '134', quantity: '10', fee: '0', feeCurrency: 'USDT' },
    });
    await prices({ 'SOL/USDT': '120' });
    await tick();
    await h.settle();
    expect((await h.jobs(h.queues.orders, JobName.OrderAccepted)).length).toBe(1);
    await prices({ 'SOL/USDT': '150' }); // back where it was, for the volatility tests
  });

  it('volatility: a single outlier does not trip a breaker that needs three breaches', async () => {
    await prices({ 'BTC/USDT': '80000', 'ETH/USDT': '4000' }); // +23 % and +25 % at once
    await tick();
    await tick(); // the same prices again: not a new breach
    await prices({ 'BTC/USDT': '65000', 'ETH/USDT': '3200' });
    await tick();
    await prices({ 'BTC/USDT': '80000', 'ETH/USDT': '4000' });
    await tick();
    await prices({ 'BTC/USDT': '65000', 'ETH/USDT': '3200' });
    await tick();
    expect(await state()).toBe('ACTIVE');
    // It warned, though: the outlier passed 80 % of the threshold.
    const [warning] = await warnings('volatility');
    expect(warning?.payload).toMatchObject({
      breaker: 'volatility',
      limit: '0.05',
      warningAt: '0.04',
      measured: '0.23076924',
      consecutive: 1,
    });
  });

  it('volatility: one symbol moving alone is not extreme volatility', async () => {
    for (let n = 0; n < 4; n++) {
      await prices({ 'BTC/USDT': '90000', 'ETH/USDT': '3200' });
      await tick();
    }
    expect(await state()).toBe('ACTIVE');
  });

  it('volatility: two symbols moving for three consecutive ticks trip it to REDUCING (no cancel-all)', async () => {
    for (let n = 0; n < 2; n++) {
      await prices({ 'BTC/USDT': '80000', 'ETH/USDT': '4000' });
      await tick();
    }
    expect(await state()).toBe('ACTIVE');
    await prices({ 'BTC/USDT': '80000', 'ETH/USDT': '4000' });
    await tick();
    expect(await h.tradingState()).toMatchObject({
      state: 'REDUCING',
      source: 'breaker.volatility',
      set_by_type: 'service',
      set_by_id: 'risk',
    });
    const [changed] = await h.auditsEventually(
      (e) =>
        e.action === 'trading.state_changed' &&
        (e.payload as { source?: string }).source === 'breaker.volatility',
    );
    expect(changed?.payload).toMatchObject({
      from: 'ACTIVE',
      to: 'REDUCING',
      breaker: 'volatility',
      limit: '0.05',
      measured: '0.23076924',
      consecutive: 3,
      consecutiveToTrip: 3,
    });
    await h.settle();
    expect((await h.jobs(h.queues.orders, JobName.OrdersCancelAll)).length).toBe(0);
    // New orders now must reduce a position.
    const buy = await h.submit(h.intent({ quantity: '0.01' }));
    expect(await h.decided(buy.intentId)).toMatchObject({ status: 'REJECTED', reason_code: 'REDUCE_ONLY' });
  });

  it('drawdown: warns at 80 % of the threshold, then halts after three consecutive breaches', async () => {
    await prices({ 'BTC/USDT': '65000', 'ETH/USDT': '3200', 'SOL/USDT': '150' });
    await resume();
    await h.filled('BTC/USDT', OrderSide.Buy, '1', '65000');
    await tick();
    const peakRow = await h.pg.query(`select peak::text from risk.equity_peak`);
    const peak = money((peakRow.rows[0] as { peak: string }).peak);

    await prices({ 'BTC/USDT': toWire(money('65000').minus(peak.times('0.08'))) }); // exactly 8 % of the peak lost
    await tick();
    expect(await state()).toBe('ACTIVE');
    const [warning] = await warnings('drawdown');
    expect(warning?.payload).toMatchObject({
      breaker: 'drawdown',
      limit: '0.1',
      warningAt: '0.08',
      measured: '0.08',
    });

    for (let n = 0; n < 2; n++) {
      await prices({ 'BTC/USDT': '50000' });
      await tick();
    }
    expect(await state()).toBe('ACTIVE');
    await prices({ 'BTC/USDT': '50000' });
    await tick();
    expect(await h.tradingState()).toMatchObject({ state: 'HALTED', source: 'breaker.drawdown' });
    const [changed] = await h.auditsEventually(
      (e) =>
        e.action === 'trading.state_changed' &&
        (e.payload as { source?: string }).source === 'breaker.drawdown',
    );
    expect(changed?.payload).toMatchObject({
      breaker: 'drawdown',
      limit: '0.1',
      to: 'HALTED',
      cancelOpenOrders: true,
    });
    const [cancelAll] = await h.jobsEventually(h.queues.orders, JobName.OrdersCancelAll, 1);
    // Recorded where execution checks it before it cancels anything (docs/adr/0010).
    const recorded = await h.pg.query(
      `select source, reason_code from risk.cancel_all_sources where command_id = $1`,
      [(cancelAll?.data as { commandId: string }).commandId],
    );
    expect(recorded.rows).toEqual([{ source: 'breaker.drawdown', reason_code: 'TRADING_HALTED' }]);
  });

  it('drawdown: after an approved resume the drawdown is measured from the equity of that moment', async () => {
    await resume();
    for (let n = 0; n < 4; n++) {
      await prices({ 'BTC/USDT': '50000' });
      await tick();
    }
    expect(await state()).toBe('ACTIVE');
  });

  it('error rate: warns at 80 %, then halts when over half the orders fail for three ticks', async () => {
    const orders = Array.from({ length: 5 }, () => randomUUID());
    for (const intentId of orders) {
      await h.report({ intentId, symbol: 'ETH/USDT', side: OrderSide.Buy, status: OrderStatus.Submitted });
    }
    for (const intentId of orders.slice(0, 2)) {
      await h.report({
        intentId,
        symbol: 'ETH/USDT',
        side: OrderSide.Buy,
        status: OrderStatus.Unknown,
        reasonCode: 'VENUE_ERROR',
      });
    }
    // Cancellations because the desk halted are not failures.
    await h.report({
      intentId: orders[4]!,
      symbol: 'ETH/USDT',
      side: OrderSide.Buy,
      status: OrderStatus.Cancelled,
      reasonCode: 'TRADING_HALTED',
    });
    await tick();
    const [warning] = await warnings('error_rate');
    expect(warning?.payload).toMatchObject({
      breaker: 'error_rate',
      measured: '0.4',
      orders: '5',
      failed: '2',
    });

    await h.report({
      intentId: orders[2]!,
      symbol: 'ETH/USDT',
      side: OrderSide.Buy,
      status: OrderStatus.Cancelled,
      reasonCode: 'APPROVAL_INVALID',
    });
    await tick();
    await tick();
    expect(await state()).toBe('ACTIVE');
    await tick();
    expect(await h.tradingState()).toMatchObject({ state: 'HALTED', source: 'breaker.error_rate' });
  });
});

describe('risk: reconciliation findings count toward the error-rate breaker, each difference once (own database)', () => {
  let h: RiskHarness;

  beforeAll(async () => {
    h = await RiskHarness.create('riskrecon', {
      RISK_BREAKER_CONSECUTIVE: '3',
      RISK_ERROR_RATE_THRESHOLD: '0.5',
      RISK_ERROR_RATE_MIN_ORDERS: '5',
    });
    await h.publishPrices({ 'BTC/USDT': '65000', 'ETH/USDT': '3200', 'SOL/USDT': '150' }, new Date());
  });

  afterAll(async () => {
    await h?.close();
  });

  const tick = () => h.get(RiskMonitor).tick();

  /** A reconciliation run as execution records it (inserted as the database owner). */
  async function run(findings: { kind: string; key: string }[]): Promise<void> {
    await h.pg.query(
      `INSERT INTO execution.reconciliations (venue, trigger, started_at, finished_at, outcome, findings)
       VALUES ('binance', 'periodic', now(), now(), $1, $2::jsonb)`,
      [
        findings.length ? 'differences' : 'in_sync',
        JSON.stringify(findings.map((f) => ({ ...f, detail: 'x', action: 'x' }))),
      ],
    );
  }

  it('a foreign order seen by every run counts once; distinct differences add up and halt the desk', async () => {
    for (const intentId of Array.from({ length: 4 }, () => randomUUID())) {
      await h.report({ intentId, symbol: 'ETH/USDT', side: OrderSide.Buy, status: OrderStatus.Submitted });
    }
    for (let i = 0; i < 5; i += 1) await run([{ kind: 'foreign_open_order', key: '9001' }]);
    for (let i = 0; i < 3; i += 1) await tick();
    // 1 difference over 4 orders and 1 difference: 0.2.
    expect((await h.tradingState()).state).toBe('ACTIVE');
    await run(['USDT', 'BTC', 'ETH', 'SOL'].map((asset) => ({ kind: 'balance_drift', key: `${asset}:-1` })));
    for (let i = 0; i < 3; i += 1) await tick();
    // 5 differences over 4 orders and 5 differences: 0.56.
    expect(await h.tradingState()).toMatchObject({ state: 'HALTED', source: 'breaker.error_rate' });
  });
});
