import { randomUUID } from 'node:crypto';
import { Test } from '@nestjs/testing';
import { Queue, type Job } from 'bullmq';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  IntentSource,
  JobName,
  OrderSide,
  OrderStatus,
  OrderType,
  QueueName,
  SCHEMA_VERSION,
  money,
  toWire,
  type AuditEvent,
  type ExecutionReported,
  type IntentSubmitted,
  type OrderParams,
} from '@desk/contracts';
import { MarketPriceStore, redisOptions } from '@desk/platform';
import {
  finishedJob,
  recordAgentIntent,
  recordExecutionReport,
  testEnv,
  uniquePrefix,
  waitFor,
  unbatched,
} from '@desk/testing';
import { AppModule } from '../src/app.module';
import { loadRiskConfig } from '../src/config';

describe('risk service deciding intents and tracking fills (real Redis and PostgreSQL)', () => {
  const env = testEnv();
  const prefix = uniquePrefix(env.redisPrefix);
  // SOL/USDT is in the catalog but not enabled here.
  const config = loadRiskConfig({
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: env.redisUrl,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    TRADING_SYMBOLS: 'BTC/USDT,ETH/USDT',
    // Not critical here (approvals-int-spec covers the two-man rule); breakers only when asked (breakers-int-spec).
    APPROVAL_NOTIONAL_THRESHOLD: '1000000',
    RISK_BREAKER_INTERVAL_MS: '3600000',
    // Nothing fills accepted orders here, so they all stay pending exposure: position limits out of the way.
    RISK_MAX_POSITION_SHARE: '100',
    RISK_MAX_GROSS_EXPOSURE: '100000000',
  });
  const connection = redisOptions(env.redisUrl);
  const pg = new Client({ connectionString: env.databaseUrl });
  let close: () => Promise<void>;
  let prices: MarketPriceStore;
  let intents: Queue;
  let orders: Queue;
  let audit: Queue;
  let executions: Queue;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
    await moduleRef.init();
    close = () => moduleRef.close();
    intents = new Queue(QueueName.Intents, { connection, prefix });
    orders = new Queue(QueueName.Orders, { connection, prefix });
    audit = new Queue(QueueName.AuditRisk, { connection, prefix });
    executions = new Queue(QueueName.Executions, { connection, prefix });
    await pg.connect();
    prices = moduleRef.get(MarketPriceStore);
    // Only BTC/USDT has a market price; ETH/USDT has none.
    await setBtcPrice('65000');
  });

  async function setBtcPrice(price: string): Promise<void> {
    await prices.publish([{ symbol: 'BTC/USDT', price: money(price), at: new Date() }]);
  }

  afterAll(async () => {
    await Promise.all([intents, orders, audit, executions].map((q) => q.close()));
    await close();
    await pg.end();
  });

  function intent(order: Partial<OrderParams>): IntentSubmitted {
    return {
      schemaVersion: SCHEMA_VERSION,
      correlationId: randomUUID(),
      intentId: randomUUID(),
      source: IntentSource.Agent,
      actor: { type: 'service', id: 'agent-analysis' },
      order: { symbol: 'BTC/USDT', side: OrderSide.Buy, type: OrderType.Market, quantity: '0.5', ...order },
      submittedAt: new Date().toISOString(),
    };
  }

  /** As agent-analysis does: the intent recorded in its decisions (agents.intent_sources), then sent. */
  async function submit(i: IntentSubmitted, opts: { jobId: string }): Promise<Job> {
    await recordAgentIntent(pg, i);
    return intents.add(JobName.IntentSubmitted, i, opts);
  }

  async function completed(queue: Queue, jobId: string): Promise<Job> {
    return finishedJob(queue, jobId, 'completed');
  }

  async function decided(intentId: string): Promise<Record<string, unknown>> {
    return waitFor(
      async () => {
        const r = await pg.query(
          `select status, reason_code, reason, notional::text, reference_price::text, symbol, quantity::text,
                  actor_type, actor_id, source, correlation_id
             from risk.intents where id = $1`,
          [intentId],
        );
        return r.rows[0] as Record<string, unknown> | undefined;
      },
      { what: `decision on ${intentId}` },
    );
  }

  async function auditEventsOf(intentId: string, count: number): Promise<AuditEvent[]> {
    return waitFor(
      async () => {
        const jobs = unbatched(
          await audit.getJobs(['waiting', 'prioritized', 'delayed', 'completed', 'failed']),
        );
        const events = jobs.map((j) => j.data as AuditEvent).filter((e) => e.subject.id === intentId);
        return events.length >= count ? events : undefined;
      },
      { what: `${count} audit events for ${intentId}` },
    );
  }

  it('accepts a market order within limits: decision row, OrderAccepted job, audit events', async () => {
    const i = intent({ quantity: '0.5' });
    await submit(i, { jobId: i.intentId });

    expect(await decided(i.intentId)).toEqual({
      status: 'ACCEPTED',
      reason_code: null,
      reason: null,
      notional: '32500',
      reference_price: '65000',
      symbol: 'BTC/USDT',
      quantity: '0.5',
      actor_type: 'service',
      actor_id: 'agent-analysis',
      source: 'agent',
      correlation_id: i.correlationId,
    });

    const job = await waitFor(() => orders.getJob(i.intentId), { what: 'orders job' });
    expect(job.name).toBe(JobName.OrderAccepted);
    expect(job.data).toMatchObject({
      intentId: i.intentId,
      actor: i.actor,
      order: i.order,
      correlationId: i.correlationId,
      acceptedAt: expect.any(String),
    });

    // The decision history the gateway shows: one ACCEPTED event.
    const history = await pg.query(
      `select status, reason_code from risk.intent_events where intent_id = $1`,
      [i.intentId],
    );
    expect(history.rows).toEqual([{ status: 'ACCEPTED', reason_code: null }]);

    const events = await auditEventsOf(i.intentId, 2);
    const byAction = Object.fromEntries(events.map((e) => [e.action, e]));
    expect(Object.keys(byAction).sort()).toEqual(['order.accepted', 'order.received']);
    expect(byAction['order.received']).toMatchObject({
      actor: i.actor,
      subject: { type: 'order', id: i.intentId },
      correlationId: i.correlationId,
      payload: { source: 'agent', order: i.order },
    });
    expect(byAction['order.accepted']).toMatchObject({
      actor: { type: 'service', id: 'risk' },
      payload: { limit: '50000', notional: '32500', referencePrice: '65000' },
    });
  });

  it('rejects an oversized order with MAX_NOTIONAL_EXCEEDED and sends nothing to execution', async () => {
    const i = intent({ quantity: '1' });
    await submit(i, { jobId: i.intentId });

    expect(await decided(i.intentId)).toMatchObject({
      status: 'REJECTED',
      reason_code: 'MAX_NOTIONAL_EXCEEDED',
      reason: expect.stringMatching(/^notional 65000\.00 exceeds max 50000/),
      notional: '65000',
      reference_price: '65000',
    });
    const events = await auditEventsOf(i.intentId, 2);
    expect(events.find((e) => e.action === 'order.rejected')).toMatchObject({
      actor: { type: 'service', id: 'risk' },
      payload: {
        reasonCode: 'MAX_NOTIONAL_EXCEEDED',
        limit: '50000',
        notional: '65000',
        referencePrice: '65000',
      },
    });
    // The decision and its jobs commit together; the audit jobs were published, the orders job never was.
    expect(await orders.getJob(i.intentId)).toBeUndefined();
  });

  it.each([
    ['a symbol outside the catalog', 'DOGE/USDT', /DOGE\/USDT/],
    ['a catalog symbol that is not enabled', 'SOL/USDT', /SOL\/USDT/],
  ])('rejects %s with UNKNOWN_SYMBOL', async (_label, symbol, reason) => {
    const i = intent({ symbol, type: OrderType.Limit, price: '1', quantity: '1' });
    await submit(i, { jobId: i.intentId });
    expect(await decided(i.intentId)).toMatchObject({
      status: 'REJECTED',
      reason_code: 'UNKNOWN_SYMBOL',
      reason: expect.stringMatching(reason),
      notional: null,
    });
    await completed(intents, i.intentId);
    expect(await orders.getJob(i.intentId)).toBeUndefined();
  });

  it('rejects market and limit orders without a market price (the fat-finger band needs one), then accepts once there is one', async () => {
    const market = intent({ symbol: 'ETH/USDT', quantity: '1' });
    const limit = intent({ symbol: 'ETH/USDT', type: OrderType.Limit, quantity: '1', price: '3000' });
    await submit(market, { jobId: market.intentId });
    await submit(limit, { jobId: limit.intentId });
    for (const i of [market, limit]) {
      expect(await decided(i.intentId)).toMatchObject({ status: 'REJECTED', reason_code: 'NO_MARKET_PRICE' });
    }

    await prices.publish([{ symbol: 'ETH/USDT', price: money('3050'), at: new Date() }]);
    const again = intent({ symbol: 'ETH/USDT', type: OrderType.Limit, quantity: '1', price: '3000' });
    await submit(again, { jobId: again.intentId });
    expect(await decided(again.intentId)).toMatchObject({
      status: 'ACCEPTED',
      notional: '3000',
      reference_price: '3000',
    });
    await waitFor(() => orders.getJob(again.intentId), { what: 'orders job of the limit order' });
  });

  it('decides an intent delivered twice once, even when the second delivery would decide differently', async () => {
    const i = intent({ quantity: '0.5' });
    await submit(i, { jobId: `${i.intentId}-a` });
    const first = await completed(intents, `${i.intentId}-a`);
    expect(first.returnvalue).toEqual({ decided: true, status: 'ACCEPTED' });

    // The price doubles: a fresh decision would now reject this order (65000 > 50000).
    await setBtcPrice('130000');
    try {
      await submit(i, { jobId: `${i.intentId}-b` });
      const second = await completed(intents, `${i.intentId}-b`);
      expect(second.returnvalue).toEqual({ decided: false });
    } finally {
      await setBtcPrice('65000');
    }

    const rows = await pg.query(`select status, notional::text from risk.intents where id = $1`, [
      i.intentId,
    ]);
    expect(rows.rows).toEqual([{ status: 'ACCEPTED', notional: '32500' }]);
    // Nothing was announced a second time: one decision (its order.updated), one OrderAccepted, one
    // received and one decision event.
    const announced = await pg.query(
      `select job_name, payload->>'action' as action from risk.outbox
        where payload->>'intentId' = $1 or payload->'subject'->>'id' = $1 order by id`,
      [i.intentId],
    );
    expect(announced.rows).toEqual([
      { job_name: JobName.OrderUpdated, action: null },
      { job_name: JobName.AuditEvent, action: 'order.received' },
      { job_name: JobName.OrderAccepted, action: null },
      { job_name: JobName.AuditEvent, action: 'order.accepted' },
    ]);
    const ordersJobs = unbatched(await orders.getJobs(['waiting', 'active', 'completed'])).filter(
      (j) => j.id === i.intentId,
    );
    expect(ordersJobs).toHaveLength(1);
  });

  it('fails a malformed intent terminally without deciding it', async () => {
    const bad = {
      ...intent({}),
      order: { symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: 'abc' },
    };
    const job = await intents.add(JobName.IntentSubmitted, bad);
    const failed = await finishedJob(intents, String(job.id), 'failed');
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/order\.quantity/);
    const rows = await pg.query(`select 1 from risk.intents where id = $1`, [bad.intentId]);
    expect(rows.rowCount).toBe(0);
  });

  describe('positions from execution reports', () => {
    const symbol = 'BTC/USDT';

    function report(over: Partial<ExecutionReported>): ExecutionReported {
      return {
        schemaVersion: SCHEMA_VERSION,
        correlationId: randomUUID(),
        intentId: randomUUID(),
        symbol,
        side: OrderSide.Buy,
        status: OrderStatus.Filled,
        at: new Date().toISOString(),
        ...over,
      };
    }

    function fill(quantity: string) {
      return { fillId: `fill-${randomUUID()}`, price: '65000', quantity, fee: '0.1', feeCurrency: 'USDT' };
    }

    /** The position in canonical wire form ("-1.5", not PostgreSQL's "-1.50"). */
    async function position(): Promise<string> {
      const r = await pg.query(`select quantity::text from risk.positions where symbol = $1`, [symbol]);
      return toWire(money((r.rows[0] as { quantity: string } | undefined)?.quantity ?? '0'));
    }

    async function deliver(r: ExecutionReported, jobId: string): Promise<Job> {
      await recordExecutionReport(pg, r); // as execution does before it reports
      await executions.add(JobName.ExecutionReported, r, { jobId });
      return completed(executions, jobId);
    }

    it('applies a FILLED report once even when delivered twice, sells subtract, other reports do not count', async () => {
      const before = money(await position());

      const buy = report({ fill: fill('0.25') });
      expect((await deliver(buy, 'buy-a')).returnvalue).toEqual({ applied: true });
      expect((await deliver(buy, 'buy-b')).returnvalue).toEqual({ applied: false });
      expect(await position()).toBe(before.plus('0.25').toFixed());

      // An OPEN report carrying a fill, and a FILLED report without one, leave the position alone.
      await deliver(report({ status: OrderStatus.Open, fill: fill('5') }), 'open-with-fill');
      await deliver(report({}), 'filled-without-fill');
      expect(await position()).toBe(before.plus('0.25').toFixed());

      // Each partial fill counts, each once.
      const partial = report({ status: OrderStatus.PartiallyFilled, fill: fill('0.05') });
      expect((await deliver(partial, 'partial-a')).returnvalue).toEqual({ applied: true });
      expect((await deliver(partial, 'partial-b')).returnvalue).toEqual({ applied: false });
      expect(await position()).toBe(before.plus('0.3').toFixed());

      const sell = report({ side: OrderSide.Sell, fill: fill('1.75') });
      await deliver(sell, 'sell-a');
      await deliver(sell, 'sell-b');
      expect(await position()).toBe(before.plus('0.3').minus('1.75').toFixed());

      const applied = await pg.query(`select intent_id from risk.applied_fills where fill_id = $1`, [
        buy.fill!.fillId,
      ]);
      expect(applied.rows).toEqual([{ intent_id: buy.intentId }]);
    });

    it("keeps risk's own average price, realized P&L and fees, from fills only", async () => {
      const eth = (side: OrderSide, quantity: string, price: string, fee: string) =>
        report({
          symbol: 'ETH/USDT',
          side,
          fill: { fillId: `fill-${randomUUID()}`, price, quantity, fee, feeCurrency: 'USDT' },
        });
      await deliver(eth(OrderSide.Buy, '2', '3000', '1'), 'eth-buy');
      await deliver(eth(OrderSide.Sell, '0.5', '3100', '0.5'), 'eth-sell');
      const r = await pg.query(
        `select quantity::text, average_price::text, realized_pnl::text, fees_paid::text, episode
           from risk.positions where symbol = 'ETH/USDT'`,
      );
      const row = r.rows[0] as Record<string, string | number>;
      expect({
        quantity: toWire(money(String(row.quantity))),
        averagePrice: toWire(money(String(row.average_price))),
        realizedPnl: toWire(money(String(row.realized_pnl))),
        feesPaid: toWire(money(String(row.fees_paid))),
        episode: row.episode,
      }).toEqual({ quantity: '1.5', averagePrice: '3000', realizedPnl: '50', feesPaid: '1.5', episode: 1 });
    });

    it('follows the execution status of an accepted order (a late report never undoes FILLED) and records failures', async () => {
      const i = intent({ quantity: '0.01' });
      await submit(i, { jobId: i.intentId });
      await decided(i.intentId);
      const execStatus = async () =>
        (await pg.query(`select execution_status from risk.intents where id = $1`, [i.intentId])).rows[0] as {
          execution_status: string | null;
        };
      await deliver(report({ intentId: i.intentId, fill: fill('0.01') }), `${i.intentId}-filled`);
      await deliver(report({ intentId: i.intentId, status: OrderStatus.Open }), `${i.intentId}-open`);
      expect(await execStatus()).toEqual({ execution_status: 'FILLED' });

      const failures = [
        report({ status: OrderStatus.Unknown, reasonCode: 'VENUE_ERROR', detail: 'VENUE_ERROR: timeout' }),
        report({ status: OrderStatus.Cancelled, reasonCode: 'APPROVAL_INVALID' }),
        report({ status: OrderStatus.Cancelled, reasonCode: 'TRADING_HALTED' }),
      ];
      for (const [n, f] of failures.entries()) await deliver(f, `failure-${n}`);
      const recorded = await pg.query(
        `select intent_id, status, reason_code, is_error from risk.execution_reports
          where intent_id = any($1::uuid[]) order by status, reason_code`,
        [failures.map((f) => f.intentId)],
      );
      expect(
        recorded.rows.map((row: Record<string, unknown>) => [row.status, row.reason_code, row.is_error]),
      ).toEqual([
        ['CANCELLED', 'APPROVAL_INVALID', true],
        ['CANCELLED', 'TRADING_HALTED', false],
        ['UNKNOWN', 'VENUE_ERROR', true],
      ]);
    });
  });
});
