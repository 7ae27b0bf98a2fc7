import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
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
 * The whole platform as an operator sees it: five services as separate processes on their own database and
 * Redis prefix, driven only through the gateway's HTTP API.
 */
describe('order path end to end (five services as processes, paper mode)', () => {
  const env = testEnv();
  const prefix = uniquePrefix('e2e');
  let db: { name: string; url: string };
  let platform: RunningPlatform;
  let redis: Redis;
  let traderKey: string;

  beforeAll(async () => {
    db = await createDatabase('e2e');
    migrateAll(db.url);
    redis = new Redis(env.redisUrl);
    platform = await startPlatform({
      databaseUrl: db.url,
      redisUrl: env.redisUrl,
      redisPrefix: prefix,
      env: {
        AGENT_SCHEDULE_MS: '300',
        AGENT_CONVICTION_THRESHOLD: '0.05',
        AGENT_COOLDOWN_MS: '2000',
        RISK_MAX_ORDER_NOTIONAL: '100000',
        EXECUTION_TICK_MS: '200',
      },
    });
    // As an admin would: an operator, and a trader key for them.
    traderKey = (await issueOperatorKey(platform.baseUrl, platform.adminKey, 'Dana Trader', ['trader'])).key;
  });

  afterAll(async () => {
    await platform?.stop();
    redis?.disconnect();
    if (db) await dropDatabase(db.name);
    await clearRedisPrefix(prefix);
  });

  const api = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: any; headers: Headers }> => {
    const res = await fetch(`${platform.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${traderKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  };

  const orderUntil = (id: string, status: string) =>
    waitFor(
      async () => {
        const r = await api('GET', `/v1/orders/${id}`);
        return r.status === 200 && r.body.status === status ? r.body : undefined;
      },
      { timeoutMs: 20_000, what: `order ${id} to be ${status}` },
    );

  it('every service is live and ready, and the API documents itself at /docs', async () => {
    for (const port of Object.values(platform.ports)) {
      expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(await ready.json()).toMatchObject({
        status: 'ok',
        info: { postgres: { status: 'up' }, redis: { status: 'up' } },
      });
    }
    const spec = await fetch(`${platform.baseUrl}/docs/openapi.json`).then((r) => r.json());
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/v1/orders', '/v1/orders/{id}', '/v1/positions', '/v1/signals']),
    );
    expect((await fetch(`${platform.baseUrl}/docs`)).status).toBe(200);
  });

  it('refuses a request without the API key', async () => {
    const r = await fetch(`${platform.baseUrl}/v1/orders`);
    expect(r.status).toBe(401);
    expect(await r.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
  });

  it("drives an operator's market order to a filled position, with its history, fills and audit trail", async () => {
    // Execution prices the fill from the market feed that agent-analysis publishes.
    await waitFor(async () => ((await redis.hget(`${prefix}:market:last`, 'ETH/USDT')) ? true : undefined));
    const key = randomUUID();
    const order = { symbol: 'ETH/USDT', side: 'buy', type: 'market', quantity: '0.5' };
    const submitted = await api('POST', '/v1/orders', order, { 'idempotency-key': key });
    expect(submitted.status).toBe(202);
    expect(submitted.body).toMatchObject({ status: 'RECEIVED', ...order });
    const id: string = submitted.body.id;

    const filled = await orderUntil(id, 'FILLED');
    expect(filled.history.map((h: { status: string }) => h.status)).toEqual([
      'RECEIVED',
      'ACCEPTED',
      'SUBMITTED',
      'PLACING',
      'FILLED',
    ]);
    expect(filled.fills).toHaveLength(1);
    expect(filled.fills[0]).toMatchObject({ quantity: '0.5', feeCurrency: 'USDT' });
    expect(filled.filledQuantity).toBe('0.5');
    expect(Number(filled.fills[0].fee)).toBeGreaterThan(0);

    const positions = await api('GET', '/v1/positions');
    const eth = positions.body.items.find((p: { symbol: string }) => p.symbol === 'ETH/USDT');
    expect(eth).toMatchObject({ symbol: 'ETH/USDT' });
    expect(eth.averagePrice).toMatch(/^\d+(\.\d+)?$/);
    expect(eth.unrealizedPnl).toMatch(/^-?\d+(\.\d+)?$/);

    const audit = await waitFor(
      async () => {
        const r = await api('GET', `/v1/audit?subjectType=order&subjectId=${id}`);
        const actions = r.body.items.map((e: { action: string }) => e.action);
        return actions.includes('order.filled') ? r.body.items : undefined;
      },
      { what: 'the audit trail of the order' },
    );
    const actions = audit.map((e: { action: string }) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['order.received', 'order.accepted', 'order.submitted', 'order.filled']),
    );
    expect(audit.find((e: { action: string }) => e.action === 'order.received').actor).toMatchObject({
      type: 'operator',
      keyId: expect.stringMatching(/^kid_[0-9a-f]{16}$/),
    });
  });

  it('replays the same Idempotency-Key with the same body and refuses it with a different body', async () => {
    const key = randomUUID();
    const order = { symbol: 'BTC/USDT', side: 'buy', type: 'limit', quantity: '0.001', price: '1000' };
    const first = await api('POST', '/v1/orders', order, { 'idempotency-key': key });
    // Same order, keys in another order: the same request.
    const again = await api(
      'POST',
      '/v1/orders',
      { price: '1000', quantity: '0.001', type: 'limit', side: 'buy', symbol: 'BTC/USDT' },
      { 'idempotency-key': key },
    );
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const different = await api(
      'POST',
      '/v1/orders',
      { ...order, quantity: '0.002' },
      { 'idempotency-key': key },
    );
    expect(different.status).toBe(422);
    expect(different.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    // A limit far below the market rests.
    await orderUntil(first.body.id, 'OPEN');
    const list = await api('GET', '/v1/orders?symbol=BTC/USDT&type=limit&limit=200');
    expect(list.body.items.filter((o: { id: string }) => o.id === first.body.id)).toHaveLength(1);
  });

  it('rejects an order over the max notional with a stable reason code', async () => {
    const r = await api(
      'POST',
      '/v1/orders',
      { symbol: 'BTC/USDT', side: 'buy', type: 'limit', quantity: '5', price: '60000' },
      { 'idempotency-key': randomUUID() },
    );
    expect(r.status).toBe(202);
    const rejected = await orderUntil(r.body.id, 'REJECTED');
    expect(rejected.reasonCode).toBe('MAX_NOTIONAL_EXCEEDED');
    expect(rejected.history.at(-1)).toMatchObject({
      status: 'REJECTED',
      reasonCode: 'MAX_NOTIONAL_EXCEEDED',
    });
    expect(rejected.fills).toEqual([]);
  });

  it("takes an agent's intent through the same risk and execution path", async () => {
    const agentOrder = await waitFor(
      async () => {
        const r = await api('GET', '/v1/orders?source=agent&status=FILLED&limit=1');
        return r.body.items[0] as { id: string } | undefined;
      },
      { timeoutMs: 40_000, what: 'an agent-originated order to fill' },
    );
    const detail = await api('GET', `/v1/orders/${agentOrder.id}`);
    expect(detail.body.source).toBe('agent');
    expect(detail.body.history.map((h: { status: string }) => h.status)).toEqual([
      'RECEIVED',
      'ACCEPTED',
      'SUBMITTED',
      'PLACING',
      'FILLED',
    ]);
    const signals = await api('GET', '/v1/signals?limit=200');
    const agents = new Set(signals.body.items.map((s: { agent: string }) => s.agent));
    expect(agents.size).toBeGreaterThanOrEqual(3);
    expect(
      signals.body.items.some(
        (s: { decision: { intentId: string | null } }) => s.decision.intentId === agentOrder.id,
      ),
    ).toBe(true);
  });

  it('keeps a hash-chained audit log that verifies, with signed checkpoints', async () => {
    // Full-chain verification is a run an admin starts (202) and reads; a trader may not start one.
    expect((await api('POST', '/v1/audit/verifications', {})).status).toBe(403);
    const admin = { authorization: `Bearer ${platform.adminKey}` };
    const started = await api('POST', '/v1/audit/verifications', {}, admin);
    expect(started.status).toBe(202);
    const verify = await waitFor(
      async () => {
        const r = await api('GET', `/v1/audit/verifications/${started.body.id}`, undefined, admin);
        return r.status === 200 && r.body.status !== 'running' ? r.body : undefined;
      },
      { what: 'the verification run to finish' },
    );
    expect(verify).toMatchObject({ status: 'ok', result: { ok: true, keysTrusted: true } });
    expect(Number(verify.result.head.seq)).toBeGreaterThan(5);
    const page = await api('GET', '/v1/audit?limit=2');
    expect(page.body.items[1].prevHash).toBe(page.body.items[0].hash);
    expect((await api('GET', '/v1/audit/checkpoints')).status).toBe(200);
  });

  it('pages through orders with a cursor, newest first, without repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r = await api('GET', `/v1/orders?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      seen.push(...r.body.items.map((o: { id: string }) => o.id));
      cursor = r.body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBeGreaterThanOrEqual(3);
  });
});
