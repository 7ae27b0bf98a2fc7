import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ApprovalKind,
  actionHash,
  canonicalJson,
  resumeAction,
  ControlCommandKind,
  IntentSource,
  JobName,
  OrderSide,
  OrderType,
  QueueName,
  SCHEMA_VERSION,
  money,
  type AuditEvent,
  type ControlCommand,
  type IntentSubmitted,
  type OrderParams,
} from '@desk/contracts';
import { redisOptions } from '@desk/platform';
import {
  freePort,
  recordApproval,
  recordControlRequest,
  recordRiskDecision,
  recordSubmission,
  REPO_ROOT,
  testEnv,
  unbatched,
  waitFor,
} from '@desk/testing';
import { ExecutionHarness } from './execution-harness';

/**
 * The kill switch across services: the built risk service runs as its own process, execution in-process,
 * on one database and Redis prefix. Commands go to risk on the control queue as the gateway sends them.
 */
describe('kill switch, flatten and stop-loss across risk and execution', () => {
  const rm = {
    type: 'operator' as const,
    id: '0b7c0e36-0000-4000-8000-0000000000aa',
    keyId: 'kid_00000000000000aa',
  };
  let h: ExecutionHarness;
  let risk: ChildProcess;
  const riskOutput: string[] = [];
  let redis: Redis;

  beforeAll(async () => {
    const shared = { APPROVAL_NOTIONAL_THRESHOLD: '1000000' };
    h = await ExecutionHarness.create('killswitch', shared);
    redis = new Redis(testEnv().redisUrl);
    const port = await freePort();
    const metricsPort = await freePort();
    risk = spawn(process.execPath, [join(REPO_ROOT, 'apps', 'risk', 'dist', 'main.js')], {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        DATABASE_URL: h.db.url,
        REDIS_URL: testEnv().redisUrl,
        REDIS_PREFIX: h.prefix,
        RISK_PORT: String(port),
        RISK_METRICS_PORT: String(metricsPort),
        RISK_BREAKER_INTERVAL_MS: '200',
        RISK_STOP_LOSS_PCT: 'ETH/USDT=0.05',
        ...shared,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    risk.stdout?.on('data', (c: Buffer) => riskOutput.push(c.toString()));
    risk.stderr?.on('data', (c: Buffer) => riskOutput.push(c.toString()));
    await waitFor(
      async () => {
        if (risk.exitCode !== null) throw new Error(`risk exited: ${riskOutput.join('').slice(-2000)}`);
        const res = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined);
        return res?.ok ? true : undefined;
      },
      { timeoutMs: 60_000, what: 'risk to be ready' },
    );
  });

  afterAll(async () => {
    if (risk && risk.exitCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => risk.kill('SIGKILL'), 10_000);
        risk.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        risk.kill('SIGTERM');
      });
    }
    redis?.disconnect();
    await h?.close();
  });

  /** Market prices as agent-analysis publishes them (execution may not be running). */
  async function prices(p: Record<string, string>): Promise<void> {
    const now = Date.now();
    await redis.hset(
      `${h.prefix}:market:last`,
      Object.fromEntries(Object.entries(p).map(([symbol, price]) => [symbol, `${price}|${now}`])),
    );
  }

  async function command(command: ControlCommandKind, over: Partial<ControlCommand> = {}): Promise<void> {
    const c: ControlCommand = {
      schemaVersion: SCHEMA_VERSION,
      correlationId: randomUUID(),
      commandId: randomUUID(),
      command,
      actor: rm,
      reason: `${command} in the kill-switch test`,
      issuedAt: new Date().toISOString(),
      ...over,
    };
    await recordControlRequest(h.pg, c); // as the gateway records what it issues (gateway.control_sources)
    await h.queues.control.add(JobName.ControlCommand, c, { jobId: c.commandId });
  }

  /** Resume as the gateway sends it after two approvers: with an approval recorded for exactly it. */
  async function resume(): Promise<void> {
    const reason = 'resume in the kill-switch test';
    const version = await h.pg.query<{ v: string }>(`select version::text as v from risk.trading_state`);
    const stateVersion = version.rows[0]?.v ?? '';
    const action = resumeAction(reason, stateVersion);
    const { approvalId } = await recordApproval(h.pg, {
      kind: ApprovalKind.TradingResume,
      subjectId: `resume-${randomUUID()}`,
      action: canonicalJson(action),
      actionHash: actionHash(ApprovalKind.TradingResume, action),
    });
    await command(ControlCommandKind.Resume, { reason, approvalId, stateVersion });
  }

  async function tradingState(state: string): Promise<void> {
    await waitFor(
      async () => {
        const r = await h.pg.query<{ state: string }>(`select state from risk.trading_state where id = 1`);
        return r.rows[0]?.state === state ? true : undefined;
      },
      { what: `trading state ${state}` },
    );
  }

  async function submit(order: OrderParams): Promise<string> {
    const i: IntentSubmitted = {
      schemaVersion: SCHEMA_VERSION,
      correlationId: randomUUID(),
      intentId: randomUUID(),
      source: IntentSource.Operator,
      actor: { type: 'operator', id: 'tess' },
      order,
      submittedAt: new Date().toISOString(),
    };
    // As the gateway: the submission recorded, then the intent on the queue.
    await recordSubmission(h.pg, i);
    await h.queues.intents.add(JobName.IntentSubmitted, i, { jobId: i.intentId });
    return i.intentId;
  }

  async function riskPosition(symbol: string): Promise<string> {
    const r = await h.pg.query<{ quantity: string }>(
      `select quantity::text from risk.positions where symbol = $1`,
      [symbol],
    );
    return money(r.rows[0]?.quantity ?? '0').toFixed();
  }

  async function bothPositions(symbol: string, quantity: string): Promise<void> {
    await waitFor(
      async () =>
        (await h.position(symbol)) === quantity && (await riskPosition(symbol)) === quantity
          ? true
          : undefined,
      { what: `${symbol} position ${quantity} at execution and at risk` },
    );
  }

  it('does not execute an order that was already waiting on the queue when the kill landed', async () => {
    await prices({ 'BTC/USDT': '65000', 'ETH/USDT': '3200' });
    // Accepted by risk while the desk was active; execution is down, so it waits on the orders queue.
    const intentId = randomUUID();
    const accepted = {
      schemaVersion: SCHEMA_VERSION,
      correlationId: randomUUID(),
      intentId,
      actor: { type: 'operator' as const, id: 'tess' },
      order: { symbol: 'BTC/USDT', side: OrderSide.Buy, type: OrderType.Market, quantity: '0.01' },
      acceptedAt: new Date().toISOString(),
    };
    await recordRiskDecision(h.pg, accepted);
    await h.queues.orders.add(JobName.OrderAccepted, accepted, { jobId: intentId });
    await command(ControlCommandKind.Kill, { reason: 'runaway agent' });
    await tradingState('HALTED');

    await h.start();
    await h.statusIs(intentId, 'CANCELLED');
    expect(await h.history(intentId)).toEqual([
      { status: 'CANCELLED', detail: 'TRADING_HALTED: trading is halted: the order is not placed' },
    ]);
    expect((await h.order(intentId))?.filled_quantity).toBe('0');
    expect(await h.position('BTC/USDT')).toBe('0');
    expect(await h.report(intentId, 'CANCELLED')).toMatchObject({ reasonCode: 'TRADING_HALTED' });
  });

  it('kill with flatten: halts, cancels open orders, and closes every position with reduce-only orders', async () => {
    await resume();
    await tradingState('ACTIVE');
    await prices({ 'BTC/USDT': '65000', 'ETH/USDT': '3200' });
    const buyBtc = await submit({
      symbol: 'BTC/USDT',
      side: OrderSide.Buy,
      type: OrderType.Market,
      quantity: '0.2',
    });
    const sellEth = await submit({
      symbol: 'ETH/USDT',
      side: OrderSide.Sell,
      type: OrderType.Market,
      quantity: '2',
    });
    const resting = await submit({
      symbol: 'ETH/USDT',
      side: OrderSide.Buy,
      type: OrderType.Limit,
      quantity: '1',
      price: '3100',
    });
    await h.statusIs(buyBtc, 'FILLED');
    await h.statusIs(sellEth, 'FILLED');
    await h.statusIs(resting, 'OPEN');
    await bothPositions('BTC/USDT', '0.2');
    await bothPositions('ETH/USDT', '-2');

    await command(ControlCommandKind.Kill, { reason: 'venue outage', flatten: true });
    await tradingState('HALTED');
    await h.statusIs(resting, 'CANCELLED');
    expect((await h.history(resting)).at(-1)?.detail).toBe('TRADING_HALTED: venue outage');
    await bothPositions('BTC/USDT', '0');
    await bothPositions('ETH/USDT', '0');
    const closes = await h.pg.query<{ symbol: string; side: string; status: string }>(
      `select symbol, side, status from execution.orders where reduce_only order by symbol`,
    );
    expect(closes.rows).toEqual([
      { symbol: 'BTC/USDT', side: 'sell', status: 'FILLED' },
      { symbol: 'ETH/USDT', side: 'buy', status: 'FILLED' },
    ]);
  });

  it('stop-loss: a position whose price crosses its stop is closed by a risk order, audited like any other', async () => {
    await resume();
    await tradingState('ACTIVE');
    await prices({ 'BTC/USDT': '65000', 'ETH/USDT': '3200' });
    const buy = await submit({
      symbol: 'ETH/USDT',
      side: OrderSide.Buy,
      type: OrderType.Market,
      quantity: '1',
    });
    await h.statusIs(buy, 'FILLED');
    await bothPositions('ETH/USDT', '1');

    // Entry 3201.6 (3200 + 5 bps); the stop at 5 % is 3041.52.
    await prices({ 'BTC/USDT': '65000', 'ETH/USDT': '3041.53' });
    await new Promise((r) => setTimeout(r, 600));
    expect(await h.position('ETH/USDT')).toBe('1');
    await prices({ 'BTC/USDT': '65000', 'ETH/USDT': '3000' });
    await bothPositions('ETH/USDT', '0');

    const stop = await h.pg.query<{ id: string; source: string; reduce_only: boolean }>(
      `select id, source, reduce_only from risk.intents where source = 'risk' and symbol = 'ETH/USDT' and side = 'sell'`,
    );
    expect(stop.rows).toHaveLength(1);
    const stopId = stop.rows[0]!.id;
    expect(await h.history(stopId)).toEqual([
      { status: 'SUBMITTED', detail: null },
      { status: 'PLACING', detail: null },
      { status: 'FILLED', detail: expect.stringMatching(/^1 @ 2998\.5$/) },
    ]);
    // Risk's events are in risk's audit queue, execution's in execution's (docs/adr/0016).
    const riskAudit = new Queue(QueueName.AuditRisk, {
      connection: redisOptions(testEnv().redisUrl),
      prefix: h.prefix,
    });
    try {
      const actions = await waitFor(async () => {
        const states = ['waiting', 'prioritized', 'delayed', 'completed'] as const;
        const jobs = [
          ...unbatched(await h.queues.audit.getJobs([...states])),
          ...unbatched(await riskAudit.getJobs([...states])),
        ];
        const found = new Set(
          jobs
            .map((j) => j.data as AuditEvent)
            .filter((e) => e.subject.id === stopId)
            .map((e) => e.action),
        );
        return found.size >= 5 ? [...found].sort() : undefined;
      });
      expect(actions).toEqual([
        'order.accepted',
        'order.filled',
        'order.placing',
        'order.received',
        'order.submitted',
      ]);
    } finally {
      await riskAudit.close();
    }
  });
});
