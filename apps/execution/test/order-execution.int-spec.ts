import { randomUUID } from 'node:crypto';
import { Test } from '@nestjs/testing';
import { Queue, type Job } from 'bullmq';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AuditAction,
  JobName,
  OrderSide,
  OrderStatus,
  OrderType,
  QueueName,
  SCHEMA_VERSION,
  money,
  type AuditEvent,
  type ExecutionReported,
  type OrderAccepted,
} from '@desk/contracts';
import { MarketPriceStore, REDIS_CLIENT, redisOptions } from '@desk/platform';
import type { Redis } from 'ioredis';
import {
  createMigratedDatabase,
  dropDatabase,
  recordRiskDecision,
  testEnv,
  uniquePrefix,
  waitFor,
  unbatched,
} from '@desk/testing';
import { AppModule } from '../src/app.module';
import { loadExecutionConfig } from '../src/config';
import { OrderExecutionService } from '../src/modules/orders/order-execution.service';

describe('execution service filling accepted orders on the paper exchange (real Redis and PostgreSQL, own database)', () => {
  const env = testEnv();
  const prefix = uniquePrefix(env.redisPrefix);
  // A database of its own: execution's tick loop works every active order in its database, so orders other
  // files record in the run's shared database (risk's tests write execution rows) must not be filled here.
  let db: { name: string; url: string };
  const configFor = (databaseUrl: string) =>
    loadExecutionConfig({
      DATABASE_URL: databaseUrl,
      REDIS_URL: env.redisUrl,
      REDIS_PREFIX: prefix,
      LOG_LEVEL: 'silent',
      EXECUTION_TICK_MS: '100',
      // These orders are not critical: the two-man rule at execution is tested in controls.int-spec.ts.
      APPROVAL_NOTIONAL_THRESHOLD: '1000000',
    });
  let close: () => Promise<void>;
  let prices: MarketPriceStore;
  let execution: OrderExecutionService;
  let orders: Queue;
  let executions: Queue;
  let audit: Queue;
  let pg: Client;
  let redis: Redis;

  beforeAll(async () => {
    db = await createMigratedDatabase('execfill');
    pg = new Client({ connectionString: db.url });
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.forRoot(configFor(db.url))],
    }).compile();
    await moduleRef.init();
    close = () => moduleRef.close();
    prices = moduleRef.get(MarketPriceStore);
    redis = moduleRef.get<symbol, Redis>(REDIS_CLIENT);
    execution = moduleRef.get(OrderExecutionService);
    const connection = redisOptions(env.redisUrl);
    orders = new Queue(QueueName.Orders, { connection, prefix });
    executions = new Queue(QueueName.Executions, { connection, prefix });
    audit = new Queue(QueueName.AuditExecution, { connection, prefix });
    await pg.connect();
  });

  afterAll(async () => {
    await Promise.all([orders.close(), executions.close(), audit.close()]);
    await close();
    await pg.end();
    await dropDatabase(db.name);
  });

  function accepted(order: OrderAccepted['order']): OrderAccepted {
    return {
      schemaVersion: SCHEMA_VERSION,
      correlationId: randomUUID(),
      intentId: randomUUID(),
      actor: { type: 'operator', id: 'alice' },
      order,
      acceptedAt: new Date().toISOString(),
    };
  }

  /** What risk does: records its acceptance (read by execution in risk.order_decisions), then sends the order. */
  async function send(job: OrderAccepted, opts?: { jobId: string }): Promise<Job> {
    await recordRiskDecision(pg, job);
    return orders.add(JobName.OrderAccepted, job, opts);
  }

  /** The feed's last candle was this one (an older candle never replaces a newer one: cleared first). */
  async function publishPrice(symbol: string, price: string, at = new Date()): Promise<void> {
    await redis.hdel(`${prefix}:market:last`, symbol);
    await prices.publish([{ symbol, price: money(price), at }]);
  }

  async function orderRow(id: string) {
    const r = await pg.query<{
      status: string;
      filled_quantity: string;
      average_fill_price: string | null;
      fees: string;
      venue: string;
    }>(
      `select status, filled_quantity, average_fill_price, fees, venue from execution.orders where id = $1`,
      [id],
    );
    return r.rows[0];
  }

  async function waitForStatus(id: string, status: string) {
    return waitFor(
      async () => {
        const row = await orderRow(id);
        return row?.status === status ? row : undefined;
      },
      { what: `order ${id} ${status}` },
    );
  }

  async function history(id: string): Promise<string[]> {
    const r = await pg.query<{ status: string }>(
      `select status from execution.order_events where order_id = $1 order by id`,
      [id],
    );
    return r.rows.map((row) => row.status);
  }

  async function fills(id: string) {
    const r = await pg.query<Record<string, string>>(
      `select id, symbol, side, price, quantity, fee, fee_currency from execution.fills where order_id = $1`,
      [id],
    );
    return r.rows;
  }

  async function position(symbol: string) {
    const r = await pg.query(
      `select quantity, average_price, realized_pnl, fees_paid from execution.positions where symbol = $1`,
      [symbol],
    );
    return r.rows[0] as Record<string, string> | undefined;
  }

  /** The job once it has failed, read after the state change (a copy read before it would be stale). */
  async function failedJob(id: string): Promise<Job> {
    await waitFor(async () => ((await orders.getJobState(id)) === 'failed' ? true : undefined), {
      what: `job ${id} failed`,
    });
    const job = await orders.getJob(id);
    if (!job) throw new Error(`job ${id} vanished`);
    return job;
  }

  /** Execution reports for an order, by status (nobody consumes the queue in this test). */
  async function reports(intentId: string): Promise<Map<string, ExecutionReported>> {
    const jobs = (await executions.getJobs([
      'waiting',
      'prioritized',
      'delayed',
    ])) as Job<ExecutionReported>[];
    return new Map(jobs.filter((j) => j.data.intentId === intentId).map((j) => [j.data.status, j.data]));
  }

  async function auditEvents(correlationId: string): Promise<AuditEvent[]> {
    const jobs = unbatched(await audit.getJobs(['waiting', 'prioritized', 'delayed'])) as Job<AuditEvent>[];
    return jobs.map((j) => j.data).filter((e) => e.correlationId === correlationId);
  }

  it('fills a market buy at once at the last price plus slippage, charges the fee, moves the position and reports it', async () => {
    await publishPrice('BTC/USDT', '65000');
    const job = accepted({
      symbol: 'BTC/USDT',
      side: OrderSide.Buy,
      type: OrderType.Market,
      quantity: '0.5',
    });
    await send(job);

    const row = await waitForStatus(job.intentId, 'FILLED');
    // 65000 + 5 bps = 65032.5; notional 32516.25; fee 10 bps = 32.51625 USDT
    expect(row).toMatchObject({
      venue: 'paper',
      filled_quantity: '0.5',
      average_fill_price: '65032.5',
      fees: '32.51625',
    });
    expect(await history(job.intentId)).toEqual(['SUBMITTED', 'PLACING', 'FILLED']);
    expect(await fills(job.intentId)).toEqual([
      {
        id: expect.stringMatching(new RegExp(`^${job.intentId}-[0-9]+$`)),
        symbol: 'BTC/USDT',
        side: 'buy',
        price: '65032.5',
        quantity: '0.5',
        fee: '32.51625',
        fee_currency: 'USDT',
      },
    ]);
    expect(await position('BTC/USDT')).toEqual({
      quantity: '0.5',
      average_price: '65032.5',
      realized_pnl: '0',
      fees_paid: '32.51625',
    });

    const reported = await waitFor(
      async () => {
        const r = await reports(job.intentId);
        return r.has('FILLED') ? r : undefined;
      },
      { what: 'execution reports' },
    );
    // Risk hears what changes exposure or fails, not the steps on the way (docs/adr/0024).
    expect([...reported.keys()]).toEqual(['FILLED']);
    expect(reported.get('FILLED')).toMatchObject({
      correlationId: job.correlationId,
      symbol: 'BTC/USDT',
      side: 'buy',
      fill: {
        fillId: `${job.intentId}-1`,
        price: '65032.5',
        quantity: '0.5',
        fee: '32.51625',
        feeCurrency: 'USDT',
      },
    });
    expect(reported.has('OPEN')).toBe(false);

    const events = await waitFor(
      async () => {
        const e = await auditEvents(job.correlationId);
        return e.length >= 3 ? e : undefined;
      },
      { what: 'audit events' },
    );
    expect(events.map((e) => e.action).sort()).toEqual(
      [
        AuditAction.OrderFilled,
        AuditAction.OrderPlacing,
        AuditAction.OrderSubmitted,
        AuditAction.PositionUpdated,
      ].sort(),
    );
    for (const e of events) expect(e.actor).toEqual({ type: 'service', id: 'execution' });
    expect(events.find((e) => e.action === String(AuditAction.OrderFilled))).toMatchObject({
      subject: { type: 'order', id: job.intentId },
      payload: { price: '65032.5', quantity: '0.5', fee: '32.51625', feeCurrency: 'USDT' },
    });
    expect(events.find((e) => e.action === String(AuditAction.PositionUpdated))).toMatchObject({
      subject: { type: 'position', id: 'BTC/USDT' },
      payload: { quantity: '0.5', averagePrice: '65032.5', realizedPnl: '0', feesPaid: '32.51625' },
    });
  });

  it('keeps a market order open while the price is stale, then sells on a fresh price and realizes P&L', async () => {
    await publishPrice('BTC/USDT', '70000', new Date(Date.now() - 60_000));
    const job = accepted({
      symbol: 'BTC/USDT',
      side: OrderSide.Sell,
      type: OrderType.Market,
      quantity: '0.2',
    });
    await send(job);

    await waitForStatus(job.intentId, 'OPEN');
    await new Promise((r) => setTimeout(r, 400)); // several ticks with only the stale price
    expect((await orderRow(job.intentId))?.status).toBe('OPEN');

    await publishPrice('BTC/USDT', '66000');
    const row = await waitForStatus(job.intentId, 'FILLED');
    // 66000 − 5 bps = 65967; realized (65967 − 65032.5) × 0.2 = 186.9; fee 13193.4 × 0.001 = 13.1934
    expect(row).toMatchObject({ average_fill_price: '65967', fees: '13.1934' });
    expect(await history(job.intentId)).toEqual(['SUBMITTED', 'PLACING', 'OPEN', 'FILLED']);
    expect(await position('BTC/USDT')).toEqual({
      quantity: '0.3',
      average_price: '65032.5',
      realized_pnl: '186.9',
      fees_paid: '45.70965',
    });
  });

  it('places an order once when the same accepted order is delivered twice', async () => {
    await publishPrice('ETH/USDT', '3200');
    const job = accepted({
      symbol: 'ETH/USDT',
      side: OrderSide.Buy,
      type: OrderType.Market,
      quantity: '1.5',
    });
    await send(job, { jobId: `${job.intentId}-a` });
    await send(job, { jobId: `${job.intentId}-b` });

    await waitFor(
      async () => {
        const done = await Promise.all(
          [`${job.intentId}-a`, `${job.intentId}-b`].map(async (id) =>
            (await orders.getJob(id))?.isCompleted(),
          ),
        );
        return done.every(Boolean) ? true : undefined;
      },
      { what: 'both deliveries processed' },
    );
    const count = await pg.query(`select count(*)::int as n from execution.orders where id = $1`, [
      job.intentId,
    ]);
    expect(count.rows[0]).toEqual({ n: 1 });
    expect(await fills(job.intentId)).toHaveLength(1);
    expect(await history(job.intentId)).toEqual(['SUBMITTED', 'PLACING', 'FILLED']);
    // 3200 + 5 bps = 3201.6 × 1.5 = 4802.4 notional
    expect(await position('ETH/USDT')).toMatchObject({
      quantity: '1.5',
      average_price: '3201.6',
      fees_paid: '4.8024',
    });
  });

  it('rests a limit buy until the price reaches the limit, then fills at the better price without slippage', async () => {
    await publishPrice('SOL/USDT', '150');
    const job = accepted({
      symbol: 'SOL/USDT',
      side: OrderSide.Buy,
      type: OrderType.Limit,
      quantity: '2',
      price: '140',
    });
    await send(job);

    await waitForStatus(job.intentId, 'OPEN');
    await publishPrice('SOL/USDT', '140.5');
    await new Promise((r) => setTimeout(r, 400)); // several ticks above the limit
    expect((await orderRow(job.intentId))?.status).toBe('OPEN');
    expect(await fills(job.intentId)).toEqual([]);
    expect(await position('SOL/USDT')).toBeUndefined();
    // Resting changes nothing risk counts: no report until the order fills or ends.
    expect((await reports(job.intentId)).size).toBe(0);

    await publishPrice('SOL/USDT', '139.5');
    const row = await waitForStatus(job.intentId, 'FILLED');
    // fills at 139.5 (better than the 140 limit); notional 279; fee 0.279
    expect(row).toMatchObject({ average_fill_price: '139.5', fees: '0.279' });
    expect(await history(job.intentId)).toEqual(['SUBMITTED', 'PLACING', 'OPEN', 'FILLED']);
    expect(await position('SOL/USDT')).toMatchObject({
      quantity: '2',
      average_price: '139.5',
      fees_paid: '0.279',
    });
    const filled = await waitFor(async () => (await reports(job.intentId)).get('FILLED'), {
      what: 'FILLED report',
    });
    expect(filled.fill).toMatchObject({ price: '139.5', quantity: '2', fee: '0.279' });
    const actions = await waitFor(
      async () => {
        const e = await auditEvents(job.correlationId);
        return e.length >= 5 ? e.map((x) => x.action).sort() : undefined;
      },
      { what: 'audit events' },
    );
    expect(actions).toEqual(
      [
        AuditAction.OrderFilled,
        AuditAction.OrderOpen,
        AuditAction.OrderPlacing,
        AuditAction.OrderSubmitted,
        AuditAction.PositionUpdated,
      ].sort(),
    );
  });

  it('fills a resting order once when several workers try to fill it at the same moment', async () => {
    await publishPrice('ETH/USDT', '3200');
    const job = accepted({
      symbol: 'ETH/USDT',
      side: OrderSide.Sell,
      type: OrderType.Limit,
      quantity: '0.5',
      price: '3300',
    });
    await send(job);
    await waitForStatus(job.intentId, 'OPEN');

    await publishPrice('ETH/USDT', '3300');
    const results = await Promise.all(Array.from({ length: 5 }, () => execution.advance(job.intentId)));
    expect(results.filter((r) => r === OrderStatus.Filled).length).toBeLessThanOrEqual(1);
    await waitForStatus(job.intentId, 'FILLED');
    expect(await fills(job.intentId)).toHaveLength(1);
    // 1.5 bought at 3201.6, 0.5 sold at 3300: realized 0.5 × 98.4 = 49.2; fees 4.8024 + 1.65
    expect(await position('ETH/USDT')).toEqual({
      quantity: '1',
      average_price: '3201.6',
      realized_pnl: '49.2',
      fees_paid: '6.4524',
    });
  });

  it('fails an order with a zero quantity terminally (a business failure, never retried)', async () => {
    const job = accepted({ symbol: 'BTC/USDT', side: OrderSide.Buy, type: OrderType.Market, quantity: '0' });
    const added = await send(job);
    const failed = await failedJob(String(added.id));
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/must be positive/);
    expect(await orderRow(job.intentId)).toBeUndefined();
  });

  it('fails a malformed job terminally, without recording an order', async () => {
    const intentId = randomUUID();
    const job = await orders.add(JobName.OrderAccepted, {
      schemaVersion: SCHEMA_VERSION,
      intentId,
      order: { symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: 'lots' },
    });
    const failed = await failedJob(String(job.id));
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/order\.quantity/);
    const count = await pg.query(`select count(*)::int as n from execution.orders where id = $1`, [intentId]);
    expect(count.rows[0]).toEqual({ n: 0 });
  });
});
