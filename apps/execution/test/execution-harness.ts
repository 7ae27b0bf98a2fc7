import { randomUUID } from 'node:crypto';
import { Test, type TestingModule } from '@nestjs/testing';
import { Queue, type Job } from 'bullmq';
import { Client } from 'pg';
import {
  ApprovalKind,
  JobName,
  MARKET_CATALOG,
  QueueName,
  SCHEMA_VERSION,
  actionHash,
  canonicalJson,
  money,
  orderAction,
  type AuditEvent,
  type ExecutionReported,
  type OrderAccepted,
  type Money,
  type OrderParams,
  type OrderCancelRequested,
  type OrdersCancelAll,
} from '@desk/contracts';
import { MarketPriceStore, REDIS_CLIENT, Secrets, redisOptions } from '@desk/platform';
import type { Redis } from 'ioredis';
import {
  createDatabase,
  finishedJob,
  dropDatabase,
  migrateAll,
  recordApproval,
  recordCancelAll,
  recordRiskDecision,
  testEnv,
  uniquePrefix,
  waitFor,
  type RecordedApproval,
  unbatched,
} from '@desk/testing';
import { AppModule } from '../src/app.module';
import { loadExecutionConfig } from '../src/config';
import {
  EXCHANGE_ADAPTER,
  type ExchangeAdapter,
  type ExchangeOrder,
  type VenueOrderReport,
} from '../src/modules/exchange/exchange-adapter';

/**
 * Execution in-process on a database of its own (these tests set risk's trading state and the gateway's
 * approvals directly, as the superuser, in the tables execution reads), with raw queues.
 */
export class ExecutionHarness {
  readonly pg: Client;
  readonly queues: Record<'orders' | 'audit' | 'executions' | 'control' | 'intents' | 'cancels', Queue>;
  module: TestingModule | undefined;

  private constructor(
    readonly prefix: string,
    readonly db: { name: string; url: string },
    private readonly env: Record<string, string>,
  ) {
    const connection = redisOptions(testEnv().redisUrl);
    const q = (name: QueueName) => new Queue(name, { connection, prefix });
    this.queues = {
      orders: q(QueueName.Orders),
      audit: q(QueueName.AuditExecution),
      executions: q(QueueName.Executions),
      control: q(QueueName.Control),
      intents: q(QueueName.Intents),
      cancels: q(QueueName.OrderCancels),
    };
    this.pg = new Client({ connectionString: db.url });
  }

  static async create(label: string, env: Record<string, string> = {}): Promise<ExecutionHarness> {
    const db = await createDatabase(label);
    migrateAll(db.url);
    const h = new ExecutionHarness(uniquePrefix(testEnv().redisPrefix), db, env);
    await h.pg.connect();
    return h;
  }

  /** Starts execution; `exchange` replaces the paper venue (e.g. one that fails). */
  async start(exchange?: ExchangeAdapter): Promise<TestingModule> {
    const { redisUrl } = testEnv();
    const env = {
      DATABASE_URL: this.db.url,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: this.prefix,
      LOG_LEVEL: 'silent',
      EXECUTION_TICK_MS: '100',
      ...this.env,
    };
    const config = loadExecutionConfig(env);
    // Exchange keys are secrets, not config: from the environment here (main.ts: Vault or the environment).
    const secrets = Secrets.fromEnvironment('execution', env);
    let builder = Test.createTestingModule({ imports: [AppModule.forRoot(config, secrets)] });
    if (exchange) builder = builder.overrideProvider(EXCHANGE_ADAPTER).useValue(exchange);
    const moduleRef = await builder.compile();
    await moduleRef.init();
    this.module = moduleRef;
    return moduleRef;
  }

  /** The running service's module (to reach a provider, e.g. to run a reconciliation now). */
  moduleRef(): TestingModule {
    if (!this.module) throw new Error('execution is not running');
    return this.module;
  }

  async stop(): Promise<void> {
    await this.module?.close();
    this.module = undefined;
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.queues).map((q) => q.close()));
    await this.stop();
    await this.pg.end();
    if (process.env.DESK_KEEP_TEST_DATA !== 'true') await dropDatabase(this.db.name);
  }

  /** The feed's last candle was this one (cleared first: an older candle never replaces a newer one). */
  async publishPrice(symbol: string, price: string, at = new Date()): Promise<void> {
    if (!this.module) throw new Error('execution is not running');
    await this.module.get<symbol, Redis>(REDIS_CLIENT).hdel(`${this.prefix}:market:last`, symbol);
    await this.module.get(MarketPriceStore).publish([{ symbol, price: money(price), at }]);
  }

  /** What risk would do: the trading state row execution reads. */
  async setTradingState(state: 'ACTIVE' | 'REDUCING' | 'HALTED'): Promise<void> {
    await this.pg.query(
      `UPDATE risk.trading_state SET state = $1, reason = 'test', source = 'test', set_at = now() WHERE id = 1`,
      [state],
    );
  }

  accepted(order: OrderParams, over: Partial<OrderAccepted> = {}): OrderAccepted {
    return {
      schemaVersion: SCHEMA_VERSION,
      correlationId: randomUUID(),
      intentId: randomUUID(),
      actor: { type: 'operator', id: 'alice' },
      order,
      acceptedAt: new Date().toISOString(),
      ...over,
    };
  }

  /** What risk does: records its acceptance of exactly this order (risk.order_decisions), then sends it. */
  async send(job: OrderAccepted): Promise<OrderAccepted> {
    await recordRiskDecision(this.pg, job);
    await this.queues.orders.add(JobName.OrderAccepted, job, { jobId: job.intentId });
    return job;
  }

  /** A kill's `orders.cancel_all`, as operator rhea, with this reason (not sent). */
  cancelAllJob(reason: string): OrdersCancelAll {
    return {
      schemaVersion: SCHEMA_VERSION,
      correlationId: randomUUID(),
      commandId: randomUUID(),
      actor: { type: 'operator', id: 'rhea' },
      reasonCode: 'TRADING_HALTED',
      reason,
      requestedAt: new Date().toISOString(),
    };
  }

  /** What risk does on a kill: records the cancel-all (risk.cancel_all_sources), then sends it. */
  async sendCancelAll(reason: string): Promise<OrdersCancelAll> {
    const command = this.cancelAllJob(reason);
    await recordCancelAll(this.pg, command);
    await this.queues.orders.add(JobName.OrdersCancelAll, command, {
      jobId: `${command.commandId}.cancel_all`,
    });
    return command;
  }

  /**
   * An operator's cancel (DELETE /v1/orders/:id, or cancel-all of a symbol): recorded as the gateway
   * records it (gateway.cancel_requests, as the superuser) unless `record` is false (a forgery), then sent.
   */
  async sendCancelRequest(
    target: OrderCancelRequested['target'],
    { record = true, actorId = 'olga' }: { record?: boolean; actorId?: string } = {},
  ): Promise<OrderCancelRequested> {
    const job: OrderCancelRequested = {
      schemaVersion: SCHEMA_VERSION,
      correlationId: randomUUID(),
      requestId: randomUUID(),
      actor: { type: 'operator', id: actorId, keyId: 'key-olga' },
      target,
      requestedAt: new Date().toISOString(),
    };
    if (record) {
      await this.pg.query(
        `INSERT INTO gateway.cancel_requests
           (id, actor_type, actor_id, actor_key_id, target_kind, intent_id, symbol, requested_at, correlation_id)
         VALUES ($1, 'operator', $2, 'key-olga', $3, $4, $5, $6, $7)`,
        [
          job.requestId,
          actorId,
          target.kind,
          target.kind === 'order' ? target.intentId : null,
          target.kind === 'symbol' ? target.symbol : null,
          job.requestedAt,
          job.correlationId,
        ],
      );
    }
    await this.queues.cancels.add(JobName.OrderCancelRequested, job, { jobId: `${job.requestId}.cancel` });
    return job;
  }

  /** What the cancel-all job returned, once execution finished it. */
  async cancelAllResult(command: OrdersCancelAll): Promise<unknown> {
    const job = await finishedJob(this.queues.orders, `${command.commandId}.cancel_all`, 'completed');
    return job.returnvalue;
  }

  async order(id: string) {
    const r = await this.pg.query<{
      status: string;
      filled_quantity: string;
      reduce_only: boolean;
      approval_id: string | null;
    }>(`select status, filled_quantity::text, reduce_only, approval_id from execution.orders where id = $1`, [
      id,
    ]);
    return r.rows[0];
  }

  async statusIs(id: string, status: string) {
    return waitFor(
      async () => {
        const row = await this.order(id);
        return row?.status === status ? row : undefined;
      },
      { what: `order ${id} ${status}` },
    );
  }

  async history(id: string): Promise<{ status: string; detail: string | null }[]> {
    const r = await this.pg.query<{ status: string; detail: string | null }>(
      `select status, detail from execution.order_events where order_id = $1 order by id`,
      [id],
    );
    return r.rows;
  }

  async position(symbol: string): Promise<string> {
    const r = await this.pg.query<{ quantity: string }>(
      `select quantity::text from execution.positions where symbol = $1`,
      [symbol],
    );
    return r.rows[0] ? money(r.rows[0].quantity).toFixed() : '0';
  }

  async report(intentId: string, status: string): Promise<ExecutionReported> {
    return waitFor(
      async () => {
        const jobs = (await this.queues.executions.getJobs([
          'waiting',
          'prioritized',
          'delayed',
          'completed',
        ])) as Job<ExecutionReported>[];
        return jobs.map((j) => j.data).find((d) => d.intentId === intentId && String(d.status) === status);
      },
      { what: `${status} report for ${intentId}` },
    );
  }

  async audit(subjectId: string, action: string): Promise<AuditEvent> {
    return waitFor(
      async () => {
        const jobs = unbatched(
          await this.queues.audit.getJobs(['waiting', 'prioritized', 'delayed', 'completed']),
        ) as Job<AuditEvent>[];
        return jobs.map((j) => j.data).find((e) => e.subject.id === subjectId && e.action === action);
      },
      { what: `${action} audit event for ${subjectId}` },
    );
  }

  /**
   * An approval as the gateway records it (inserted directly, as the superuser): the request for this
   * exact order, and `approvers` approvals by distinct approvers with active approver keys.
   */
  async approval(
    intentId: string,
    order: OrderParams,
    opts: { approvers?: number; required?: number; status?: string; approvedOrder?: OrderParams } = {},
  ): Promise<{ approvalId: string; keyIds: string[] }> {
    const action = orderAction(intentId, opts.approvedOrder ?? order);
    return recordApproval(this.pg, {
      kind: ApprovalKind.Order,
      subjectId: intentId,
      action: canonicalJson(action),
      actionHash: actionHash(ApprovalKind.Order, action),
      ...(opts.approvers !== undefined ? { approvers: opts.approvers } : {}),
      ...(opts.required !== undefined ? { required: opts.required } : {}),
      ...(opts.status !== undefined ? { status: opts.status as RecordedApproval['status'] } : {}),
    });
  }
}

/**
 * A venue for tests that script its answers: every call answers as an empty venue would (static catalog, no
 * orders, no trades, no balances); override the calls a test scripts.
 */
export function scriptedVenue(venue: string, live: boolean): ExchangeAdapter {
  return {
    venue,
    live,
    loadMarkets: () => Promise.resolve([...MARKET_CATALOG]),
    placeOrder: (order) => Promise.resolve(openReport(order)),
    fetchOrder: (order) => Promise.resolve(openReport(order)),
    cancelOrder: (order) =>
      Promise.resolve({
        venueOrderId: `v-${order.clientOrderId}`,
        status: 'cancelled',
        filledQuantity: money('0'),
        fills: [],
      }),
    fetchOpenOrders: () => Promise.resolve([]),
    fetchTrades: () => Promise.resolve([]),
    fetchBalances: () => Promise.resolve([]),
  };
}

function openReport(order: ExchangeOrder): VenueOrderReport {
  return {
    venueOrderId: `v-${order.clientOrderId}`,
    status: 'open',
    filledQuantity: money('0'),
    fills: [],
    detail: 'resting',
  };
}

/** The venue's report of an order filled at once, in one trade. */
export function filledReport(order: ExchangeOrder, price: Money): VenueOrderReport {
  return {
    venueOrderId: `v-${order.clientOrderId}`,
    status: 'filled',
    filledQuantity: order.quantity,
    fills: [
      {
        tradeId: `t-${order.clientOrderId}`,
        price,
        quantity: order.quantity,
        fee: money('0'),
        feeCurrency: 'USDT',
        at: new Date(),
      },
    ],
  };
}
