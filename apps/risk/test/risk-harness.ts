import { randomUUID } from 'node:crypto';
import { Test, type TestingModule } from '@nestjs/testing';
import { Queue, type Job } from 'bullmq';
import { Client } from 'pg';
import {
  ApprovalKind,
  ControlCommandKind,
  IntentSource,
  JobName,
  OrderSide,
  OrderType,
  QueueName,
  SCHEMA_VERSION,
  actionHash,
  canonicalJson,
  limitsAction,
  liveVenueAction,
  money,
  resumeAction,
  type Actor,
  type AuditEvent,
  type ControlCommand,
  type ExecutionReported,
  type IntentSubmitted,
  type OrderParams,
} from '@desk/contracts';
import { MarketPriceStore, REDIS_CLIENT, redisOptions } from '@desk/platform';
import type { Redis } from 'ioredis';
import {
  createDatabase,
  dropDatabase,
  migrateAll,
  recordApproval,
  recordControlRequest,
  recordExecutionReport,
  recordSubmission,
  testEnv,
  uniquePrefix,
  waitFor,
  type RecordedApproval,
  unbatched,
} from '@desk/testing';
import { AppModule } from '../src/app.module';
import { loadRiskConfig, type RiskConfig } from '../src/config';

export const RISK_ADMIN: Actor = {
  type: 'operator',
  id: '6f1c1a52-0000-4000-8000-000000000001',
  keyId: 'kid_00000000000000aa',
};
export const TRADER: Actor = {
  type: 'operator',
  id: '6f1c1a52-0000-4000-8000-000000000002',
  keyId: 'kid_00000000000000bb',
};

/**
 * Risk in-process on a database of its own (trading state, limits and positions are global to a database,
 * so these tests must not share one with other test files) and a Redis prefix of its own, with raw queues
 * to feed it and to see what it publishes.
 */
export class RiskHarness {
  readonly pg: Client;
  readonly queues: Record<'intents' | 'orders' | 'audit' | 'executions' | 'control' | 'approvals', Queue>;
  config!: RiskConfig;
  module: TestingModule | undefined;

  private constructor(
    readonly prefix: string,
    private readonly env: Record<string, string>,
    private readonly db: { name: string; url: string },
  ) {
    const { redisUrl } = testEnv();
    const connection = redisOptions(redisUrl);
    const q = (name: QueueName) => new Queue(name, { connection, prefix });
    this.queues = {
      intents: q(QueueName.Intents),
      orders: q(QueueName.Orders),
      audit: q(QueueName.AuditRisk),
      executions: q(QueueName.Executions),
      control: q(QueueName.Control),
      approvals: q(QueueName.Approvals),
    };
    this.pg = new Client({ connectionString: db.url });
  }

  static async create(label: string, env: Record<string, string> = {}): Promise<RiskHarness> {
    const db = await createDatabase(label);
    migrateAll(db.url);
    const h = new RiskHarness(uniquePrefix(testEnv().redisPrefix), env, db);
    await h.pg.connect();
    await h.start();
    return h;
  }

  /** Starts a (new) risk module instance on the same database and prefix. */
  async start(): Promise<TestingModule> {
    const base = testEnv();
    this.config = loadRiskConfig({
      DATABASE_URL: this.db.url,
      REDIS_URL: base.redisUrl,
      REDIS_PREFIX: this.prefix,
      LOG_LEVEL: 'silent',
      // Tests call the monitor's tick() themselves unless they ask for a timer.
      RISK_BREAKER_INTERVAL_MS: '3600000',
      ...this.env,
    });
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(this.config)] }).compile();
    await moduleRef.init();
    this.module = moduleRef;
    return moduleRef;
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

  get<T>(type: new (...args: never[]) => T): T {
    if (!this.module) throw new Error('risk is not running');
    return this.module.get(type);
  }

  /** The feed's last candles were these (whatever was stored before: an older candle never replaces a newer one). */
  async publishPrices(prices: Record<string, string>, at = new Date()): Promise<void> {
    await this.module!.get<symbol, Redis>(REDIS_CLIENT).hdel(
      `${this.prefix}:market:last`,
      ...Object.keys(prices),
    );
    await this.get(MarketPriceStore).publish(
      Object.entries(prices).map(([symbol, price]) => ({ symbol, price: money(price), at })),
    );
  }

  intent(order: Partial<OrderParams> = {}, actor: Actor = TRADER): IntentSubmitted {
    return {
      schemaVersion: SCHEMA_VERSION,
      correlationId: randomUUID(),
      intentId: randomUUID(),
      source: IntentSource.Operator,
      actor,
      order: { symbol: 'BTC/USDT', side: OrderSide.Buy, type: OrderType.Market, quantity: '0.1', ...order },
      submittedAt: new Date().toISOString(),
    };
  }

  /** As the gateway does: the submission recorded (gateway.intent_sources), then the intent on the queue. */
  async submit(i: IntentSubmitted): Promise<IntentSubmitted> {
    await recordSubmission(this.pg, i);
    await this.queues.intents.add(JobName.IntentSubmitted, i, { jobId: i.intentId });
    return i;
  }

  command(command: ControlCommandKind, over: Partial<ControlCommand> = {}): ControlCommand {
    return {
      schemaVersion: SCHEMA_VERSION,
      correlationId: randomUUID(),
      commandId: randomUUID(),
      command,
      actor: RISK_ADMIN,
      reason: `${command} drill`,
      issuedAt: new Date().toISOString(),
      ...over,
    };
  }

  /**
   * A resume, limits or live-venue command released by an approval the gateway recorded for exactly this
   * action (written into gateway.approval_requests as the gateway would): what quorum sends to risk.
   */
  async approvedCommand(
    command: ControlCommandKind.Resume | ControlCommandKind.SetLimits | ControlCommandKind.EnableLiveVenue,
    over: Partial<ControlCommand> = {},
    approval: Omit<RecordedApproval, 'kind' | 'subjectId' | 'action' | 'actionHash'> = {},
  ): Promise<ControlCommand> {
    // Bound to the state of this moment, as the gateway binds a request (unless the test says otherwise).
    const versions = await this.versions();
    const c = this.command(command, {
      ...(command === ControlCommandKind.Resume ? { stateVersion: versions.state } : {}),
      ...(command === ControlCommandKind.SetLimits ? { limitsVersion: versions.limits } : {}),
      ...over,
    });
    const [kind, action] =
      command === ControlCommandKind.Resume
        ? [ApprovalKind.TradingResume, resumeAction(c.reason, c.stateVersion ?? '')]
        : command === ControlCommandKind.SetLimits
          ? [ApprovalKind.RaiseLimits, limitsAction(c.limits ?? {}, c.reason, c.limitsVersion ?? '')]
          : [ApprovalKind.EnableLiveVenue, liveVenueAction(c.venue ?? '', c.reason)];
    const { approvalId } = await recordApproval(this.pg, {
      kind,
      subjectId: `${kind}-${randomUUID()}`,
      action: canonicalJson(action),
      actionHash: actionHash(kind, action),
      ...approval,
    });
    return { ...c, approvalId };
  }

  /** The trading state's and the limits' versions now (what a resume or a limit raise is bound to). */
  async versions(): Promise<{ state: string; limits: string }> {
    const r = await this.pg.query<{ state: string; limits: string }>(
      `select (select version::text from risk.trading_state where id = 1) as state,
              (select coalesce(max(revision), 0)::text from risk.limits) as limits`,
    );
    const row = r.rows[0];
    if (!row) throw new Error('no risk versions');
    return row;
  }

  /**
   * Sends a control command as the gateway does (recorded in gateway.control_sources, then on the queue)
   * and waits until risk has processed it (completed or failed).
   */
  async send(c: ControlCommand): Promise<Job> {
    await recordControlRequest(this.pg, c);
    await this.queues.control.add(JobName.ControlCommand, c, { jobId: c.commandId });
    return this.settled(this.queues.control, c.commandId);
  }

  async settled(queue: Queue, jobId: string): Promise<Job> {
    return waitFor(
      async () => {
        // The state first, then the job: a job read before it finished keeps that moment's fields
        // (attemptsMade 0, no return value) even once isFailed() says true.
        const state = await queue.getJobState(jobId);
        return state === 'completed' || state === 'failed' ? queue.getJob(jobId) : undefined;
      },
      { what: `job ${jobId} settled` },
    );
  }

  /** Delivers an execution report to risk and waits until it is applied. */
  async report(r: Omit<ExecutionReported, 'schemaVersion' | 'correlationId' | 'at'>): Promise<void> {
    const data: ExecutionReported = {
      schemaVersion: SCHEMA_VERSION,
      correlationId: randomUUID(),
      at: new Date().toISOString(),
      ...r,
    };
    // As execution does: the report recorded (execution.order_status_history, order_fills), then sent.
    await recordExecutionReport(this.pg, data);
    const job = await this.queues.executions.add(JobName.ExecutionReported, data);
    await this.settled(this.queues.executions, String(job.id));
  }

  /** A filled buy or sell in risk's position view, as execution would report it. */
  async filled(symbol: string, side: OrderSide, quantity: string, price: string, fee = '0'): Promise<void> {
    await this.report({
      intentId: randomUUID(),
      symbol,
      side,
      status: 'FILLED' as ExecutionReported['status'],
      fill: { fillId: `fill-${randomUUID()}`, price, quantity, fee, feeCurrency: 'USDT' },
    });
  }

  async decided(intentId: string): Promise<Record<string, unknown>> {
    return waitFor(
      async () => {
        const r = await this.pg.query(
          `select status, reason_code, reason, notional::text, reference_price::text, approval_id, source, reduce_only
             from risk.intents where id = $1`,
          [intentId],
        );
        return r.rows[0] as Record<string, unknown> | undefined;
      },
      { what: `decision on ${intentId}` },
    );
  }

  async tradingState(): Promise<Record<string, unknown>> {
    const r = await this.pg.query(
      `select state, reason, set_by_type, set_by_id, set_by_key_id, source from risk.trading_state where id = 1`,
    );
    return r.rows[0] as Record<string, unknown>;
  }

  /** Audit events published so far that match. */
  async audits(match: (e: AuditEvent) => boolean): Promise<AuditEvent[]> {
    const jobs = unbatched(
      await this.queues.audit.getJobs(['waiting', 'prioritized', 'delayed', 'completed', 'failed']),
    );
    return jobs.map((j) => j.data as AuditEvent).filter(match);
  }

  async auditsEventually(
    match: (e: AuditEvent) => boolean,
    count = 1,
    what = 'audit events',
  ): Promise<AuditEvent[]> {
    return waitFor(
      async () => {
        const found = await this.audits(match);
        return found.length >= count ? found : undefined;
      },
      { what },
    );
  }

  /** Waits until at least `count` jobs of that name are on the queue (the outbox publishes after commit). */
  async jobsEventually(queue: Queue, name: JobName, count: number): Promise<Job[]> {
    return waitFor(
      async () => {
        const jobs = await this.jobs(queue, name);
        return jobs.length >= count ? jobs : undefined;
      },
      { what: `${count} ${name} jobs` },
    );
  }

  /** Lets the outbox relay run (so an absence is not just a publication still on its way). */
  async settle(ms = 400): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
  }

  async jobs(queue: Queue, name: JobName): Promise<Job[]> {
    return unbatched(
      await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed']),
    ).filter((j) => j.name === String(name));
  }
}
