import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  clearRedisPrefix,
  createDatabase,
  dropDatabase,
  issueOperatorKey,
  migrateAll,
  startPlatform,
  testEnv,
  uniquePrefix,
  waitFor,
  type RunningPlatform,
} from '@desk/testing';

/**
 * The desk's controls as operators use them, across the five services as processes: a critical order
 * held for two approvers, the kill switch, resuming only with approval, and live trading on a venue.
 */
describe('two-man rule and kill switch end to end', () => {
  const env = testEnv();
  const prefix = uniquePrefix('e2e-ctl');
  let db: { name: string; url: string };
  let platform: RunningPlatform;
  const keys: Record<'trader' | 'riskAdmin' | 'approverA' | 'approverB', string> = {} as never;

  beforeAll(async () => {
    db = await createDatabase('e2ectl');
    migrateAll(db.url);
    platform = await startPlatform({
      databaseUrl: db.url,
      redisUrl: env.redisUrl,
      redisPrefix: prefix,
      env: {
        AGENT_TRADING_ENABLED: 'false',
        AGENT_SCHEDULE_MS: '300',
        APPROVAL_NOTIONAL_THRESHOLD: '20000',
        RISK_MAX_ORDER_NOTIONAL: '1000000',
        EXECUTION_TICK_MS: '200',
      },
    });
    // The desk's setup phase, as a new desk goes through it: the first admin creates the operators and
    // registers the keys each holder generated; then closes setup, and the two-man rule applies.
    const issue = async (name: string, roles: string[]) =>
      (await issueOperatorKey(platform.baseUrl, platform.adminKey, name, roles)).key;
    keys.trader = await issue('Tess Trader', ['trader']);
    keys.riskAdmin = await issue('Rhea Risk', ['risk-admin']);
    keys.approverA = await issue('Ada Approver', ['approver']);
    keys.approverB = await issue('Ben Approver', ['approver']);
    const closed = await fetch(`${platform.baseUrl}/v1/setup/close`, {
      method: 'POST',
      headers: { authorization: `Bearer ${platform.adminKey}` },
    });
    if (closed.status !== 200) throw new Error(`could not close setup: ${await closed.text()}`);
  });

  afterAll(async () => {
    await platform?.stop();
    if (db) await dropDatabase(db.name);
    await clearRedisPrefix(prefix);
  });

  const api = async (key: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${platform.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined
          ? {}
          : { 'content-type': 'application/json', 'idempotency-key': randomUUID() }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  const orderIs = (id: string, status: string) =>
    waitFor(
      async () => {
        const r = await api(keys.trader, 'GET', `/v1/orders/${id}`);
        return r.body?.status === status ? r.body : undefined;
      },
      { timeoutMs: 20_000, what: `order ${id} to be ${status}` },
    );

  it('holds a critical order for two approvers, then sends it through risk to a fill', async () => {
    await waitFor(async () =>
      (await api(keys.trader, 'GET', '/v1/positions')).status === 200 ? true : undefined,
    );
    const submitted = await api(keys.trader, 'POST', '/v1/orders', {
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      quantity: '0.5',
    });
    expect(submitted.status).toBe(202);
    const held = await orderIs(submitted.body.id, 'PENDING_APPROVAL');
    expect(held.reasonCode).toBe('APPROVAL_REQUIRED');
    const pending = await waitFor(async () => {
      const r = await api(keys.approverA, 'GET', '/v1/approvals?status=pending');
      return r.body.items.find((a: { subjectId: string }) => a.subjectId === submitted.body.id);
    });
    expect(pending.context).toMatchObject({ threshold: expect.any(String) });
    expect((await api(keys.approverA, 'POST', `/v1/approvals/${pending.id}/approve`)).body.status).toBe(
      'pending',
    );
    expect((await api(keys.approverB, 'POST', `/v1/approvals/${pending.id}/approve`)).body.status).toBe(
      'executed',
    );
    const filled = await orderIs(submitted.body.id, 'FILLED');
    expect(filled.history.map((h: { status: string }) => h.status)).toEqual([
      'RECEIVED',
      'PENDING_APPROVAL',
      'ACCEPTED',
      'SUBMITTED',
      'PLACING',
      'FILLED',
    ]);
    expect(filled.approval).toMatchObject({ id: pending.id, status: 'executed' });
  });

  it('kills at once, refuses new orders while halted, and resumes only when two approvers agree', async () => {
    const kill = await api(keys.riskAdmin, 'POST', '/v1/kill', { reason: 'e2e drill' });
    expect(kill.status).toBe(202);
    const halted = await waitFor(async () => {
      const r = await api(keys.trader, 'GET', '/v1/trading-state');
      return r.body?.state === 'HALTED' ? r.body : undefined;
    });
    expect(halted).toMatchObject({ reason: 'e2e drill', setBy: { type: 'operator' } });
    const refused = await api(keys.trader, 'POST', '/v1/orders', {
      symbol: 'ETH/USDT',
      side: 'buy',
      type: 'market',
      quantity: '0.1',
    });
    const rejected = await orderIs(refused.body.id, 'REJECTED');
    expect(rejected.reasonCode).toBe('TRADING_HALTED');

    const resume = await api(keys.riskAdmin, 'POST', '/v1/resume', { reason: 'drill over' });
    expect(resume.status).toBe(202);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await api(keys.trader, 'GET', '/v1/trading-state')).body.state).toBe('HALTED');
    await api(keys.approverA, 'POST', `/v1/approvals/${resume.body.approvalId}/approve`);
    await api(keys.approverB, 'POST', `/v1/approvals/${resume.body.approvalId}/approve`);
    await waitFor(async () =>
      (await api(keys.trader, 'GET', '/v1/trading-state')).body?.state === 'ACTIVE' ? true : undefined,
    );
  });

  it('enables live trading on a venue only when two approvers agree; then even a small order waits for them', async () => {
    const small = { symbol: 'ETH/USDT', side: 'buy', type: 'market', quantity: '0.01' };
    const before = await api(keys.trader, 'POST', '/v1/orders', small);
    await orderIs(before.body.id, 'FILLED');

    const asked = await api(keys.riskAdmin, 'POST', '/v1/venues/binance/enable-live', {
      reason: 'account funded',
    });
    expect(asked.status).toBe(202);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await api(keys.trader, 'GET', '/v1/venues')).body.items).toEqual([]);
    await api(keys.approverA, 'POST', `/v1/approvals/${asked.body.approvalId}/approve`);
    await api(keys.approverB, 'POST', `/v1/approvals/${asked.body.approvalId}/approve`);
    const live = await waitFor(async () => {
      const items = (await api(keys.trader, 'GET', '/v1/venues')).body.items as { live: boolean }[];
      return items.find((v) => v.live);
    });
    expect(live).toMatchObject({
      venue: 'binance',
      approvalId: asked.body.approvalId,
      reason: 'account funded',
      setBy: { type: 'operator' },
    });

    const held = await api(keys.trader, 'POST', '/v1/orders', small);
    const pending = await orderIs(held.body.id, 'PENDING_APPROVAL');
    expect(pending.reasonCode).toBe('APPROVAL_REQUIRED');

    const off = await api(keys.riskAdmin, 'POST', '/v1/venues/binance/disable-live', {
      reason: 'drill over',
    });
    expect(off.status).toBe(202);
    await waitFor(async () => {
      const items = (await api(keys.trader, 'GET', '/v1/venues')).body.items as { live: boolean }[];
      return items.length === 1 && !items[0]?.live ? true : undefined;
    });
    const after = await api(keys.trader, 'POST', '/v1/orders', small);
    await orderIs(after.body.id, 'FILLED');
    const audit = await waitFor(async () => {
      const r = await api(keys.riskAdmin, 'GET', '/v1/audit?subjectType=venue');
      const actions = ((r.body?.items ?? []) as { action: string }[]).map((e) => e.action);
      return actions.includes('venue.live_disabled') ? actions : undefined;
    });
    expect(audit).toEqual(expect.arrayContaining(['venue.live_enabled', 'venue.live_disabled']));
  });
});
