import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  APPS,
  PROMETHEUS_DIR,
  alertExpressions,
  clearRedisPrefix,
  createDatabase,
  dashboardExpressions,
  dropDatabase,
  freePort,
  issueOperatorKey,
  metricNamesOf,
  migrateAll,
  startPlatform,
  testEnv,
  uniquePrefix,
  waitFor,
  type RunningPlatform,
} from '@desk/testing';

/**
 * What operators see is true: a real Prometheus (Debian's package; npm test installs it) scrapes the five
 * running services' metrics ports while orders flow, evaluates the alert rules, and holds samples of
 * every metric an alert rule or a dashboard panel reads. And one order's story is in the logs: its
 * correlation id is on the lines of every service it passed through.
 */
describe('monitoring end to end (five services, a real Prometheus)', () => {
  const env = testEnv();
  const prefix = uniquePrefix('e2emon');
  const keys: Record<'trader' | 'approverA' | 'approverB', string> = {} as never;
  let db: { name: string; url: string };
  let platform: RunningPlatform;
  let prometheus: ChildProcess | undefined;
  let prometheusUrl: string;
  let storage: string;
  const prometheusOutput: string[] = [];

  beforeAll(async () => {
    db = await createDatabase('e2emon');
    migrateAll(db.url);
    platform = await startPlatform({
      databaseUrl: db.url,
      redisUrl: env.redisUrl,
      redisPrefix: prefix,
      env: {
        LOG_LEVEL: 'debug',
        AGENT_TRADING_ENABLED: 'false',
        AGENT_SCHEDULE_MS: '300',
        APPROVAL_NOTIONAL_THRESHOLD: '20000',
        RISK_MAX_ORDER_NOTIONAL: '1000000',
        EXECUTION_TICK_MS: '200',
        THROTTLE_ORDER_LIMIT: '4',
      },
    });
    const issue = async (name: string, roles: string[]) =>
      (await issueOperatorKey(platform.baseUrl, platform.adminKey, name, roles)).key;
    keys.trader = await issue('Tess Trader', ['trader']);
    keys.approverA = await issue('Ada Approver', ['approver']);
    keys.approverB = await issue('Ben Approver', ['approver']);
    const closed = await fetch(`${platform.baseUrl}/v1/setup/close`, {
      method: 'POST',
      headers: { authorization: `Bearer ${platform.adminKey}` },
    });
    if (closed.status !== 200) throw new Error(`could not close setup: ${await closed.text()}`);

    // Prometheus on a free port with a temporary storage directory, scraping every second, with the
    // desk's own alert rules.
    storage = mkdtempSync(join(tmpdir(), 'desk-prometheus-'));
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    const config = [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      `rule_files: [${JSON.stringify(join(PROMETHEUS_DIR, 'alerts.yml'))}]`,
      'scrape_configs:',
      ...APPS.flatMap((app) => [
        `  - job_name: ${app}`,
        `    static_configs: [{ targets: ['127.0.0.1:${platform.metricsPorts[app]}'] }]`,
      ]),
    ].join('\n');
    writeFileSync(join(storage, 'prometheus.yml'), config);
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(storage, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(storage, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (chunk: Buffer) => prometheusOutput.push(chunk.toString());
    prometheus.stdout?.on('data', keep);
    prometheus.stderr?.on('data', keep);
    await waitFor(
      async () => {
        if (prometheus?.exitCode !== null) throw new Error(`prometheus exited: ${prometheusOutput.join('')}`);
        const res = await fetch(`${prometheusUrl}/-/ready`).catch(() => undefined);
        return res?.ok ? true : undefined;
      },
      { timeoutMs: 30_000, what: 'prometheus to be ready' },
    );
  });

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus?.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    if (storage) rmSync(storage, { recursive: true, force: true });
    await platform?.stop();
    if (db) await dropDatabase(db.name);
    await clearRedisPrefix(prefix);
  });

  const api = async (
    key: string,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(`${platform.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined
          ? {}
          : { 'content-type': 'application/json', 'idempotency-key': randomUUID() }),
        ...headers,
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
      { timeoutMs: 30_000, what: `order ${id} to be ${status}` },
    );

  const query = async (promql: string): Promise<unknown[]> => {
    const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { status: string; data?: { result: unknown[] }; error?: string };
    if (body.status !== 'success') throw new Error(`${promql}: ${body.error}`);
    return body.data?.result ?? [];
  };

  const correlationId = `mon-${randomUUID()}`;

  it('metrics are served on each internal port, never through the gateway API', async () => {
    for (const app of APPS) {
      const res = await fetch(`http://127.0.0.1:${platform.metricsPorts[app]}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain('process_cpu_seconds_total');
      expect(text).toContain('desk_secrets_source{source="environment"} 1');
    }
    const viaApi = await fetch(`${platform.baseUrl}/metrics`);
    expect(viaApi.status).toBe(404);
    expect(await viaApi.text()).not.toContain('process_cpu_seconds_total');
  });

  it('orders flow: plain ones to a fill, a critical one through two approvers, an over-limit one throttled', async () => {
    await waitFor(async () =>
      (await api(keys.trader, 'GET', '/v1/positions')).status === 200 ? true : undefined,
    );
    // The order whose story the logs must tell, under a correlation id of our own.
    const traced = await api(
      keys.trader,
      'POST',
      '/v1/orders',
      { symbol: 'ETH/USDT', side: 'buy', type: 'market', quantity: '0.1' },
      { 'x-request-id': correlationId },
    );
    expect(traced.status).toBe(202);
    const rejected = await api(keys.trader, 'POST', '/v1/orders', {
      symbol: 'ETH/USDT',
      side: 'sell',
      type: 'limit',
      quantity: '0.1',
      price: '1',
    });
    expect(rejected.status).toBe(202);
    const critical = await api(keys.trader, 'POST', '/v1/orders', {
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      quantity: '0.5',
    });
    expect(critical.status).toBe(202);
    await orderIs(critical.body.id, 'PENDING_APPROVAL');
    const pending = await waitFor(async () => {
      const r = await api(keys.approverA, 'GET', '/v1/approvals?status=pending');
      return r.body.items.find((a: { subjectId: string }) => a.subjectId === critical.body.id);
    });
    await api(keys.approverA, 'POST', `/v1/approvals/${pending.id}/approve`);
    await api(keys.approverB, 'POST', `/v1/approvals/${pending.id}/approve`);
    await orderIs(traced.body.id, 'FILLED');
    await orderIs(rejected.body.id, 'REJECTED');
    await orderIs(critical.body.id, 'FILLED');

    // Past the per-key order limit (THROTTLE_ORDER_LIMIT 4 a minute): refused and counted.
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      statuses.push(
        (
          await api(keys.trader, 'POST', '/v1/orders', {
            symbol: 'ETH/USDT',
            side: 'buy',
            type: 'market',
            quantity: '0.01',
          })
        ).status,
      );
    }
    expect(statuses).toContain(429);
    // A bad key (an authentication failure), a role the trader lacks (access denied), and an audit
    // chain verification by the admin.
    expect((await api('kid_nope.not-a-key', 'GET', '/v1/orders')).status).toBe(401);
    expect((await api(keys.trader, 'POST', '/v1/audit/verifications', {})).status).toBe(403);
    const run = await api(platform.adminKey, 'POST', '/v1/audit/verifications', {});
    expect(run.status).toBe(202);
    await waitFor(
      async () => {
        const r = await api(platform.adminKey, 'GET', `/v1/audit/verifications/${run.body.id}`);
        return r.body?.status && r.body.status !== 'running' ? r.body : undefined;
      },
      { timeoutMs: 30_000, what: 'the audit verification to end' },
    );
  });

  it('Prometheus holds samples of every metric each alert rule and dashboard panel reads', async () => {
    const read = [...alertExpressions(), ...dashboardExpressions()];
    const metrics = [...new Set(read.flatMap(({ expr }) => metricNamesOf(expr)))].sort();
    expect(metrics.length).toBeGreaterThan(25);
    const missing = async () => {
      const out: string[] = [];
      for (const metric of metrics) {
        if ((await query(`count({__name__="${metric}"})`)).length === 0) out.push(metric);
      }
      return out;
    };
    // A few scrapes after the orders above (every second).
    let last: string[] = [];
    await waitFor(
      async () => {
        last = await missing();
        return last.length === 0 ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1000, what: `samples of ${last.join(', ')}` },
    ).catch(() => undefined);
    expect(last).toEqual([]);

    // Every service is up, and the trading path shows what happened.
    expect(await query('up == 1')).toHaveLength(APPS.length);
    expect(await query('desk_execution_orders{status="FILLED"} >= 2')).toHaveLength(1);
    expect(await query('desk_risk_decisions_total{decision="REJECTED"} >= 1')).toHaveLength(1);
    expect(await query('desk_gateway_throttled_requests_total >= 1')).not.toHaveLength(0);
    expect(
      await query('desk_approval_time_to_decision_seconds_count{kind="order",outcome="executed"} >= 1'),
    ).toHaveLength(1);
    expect(await query('desk_audit_verification_last_result{result="ok"} == 1')).toHaveLength(1);
    expect(await query('desk_audit_chain_head_seq > 0')).toHaveLength(1);

    // Every rule evaluates without error against the live series.
    const rules = (await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
    };
    const evaluated = rules.data.groups.flatMap((g) => g.rules);
    expect(evaluated).toHaveLength(alertExpressions().length);
    await waitFor(
      async () => {
        const now = (await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as typeof rules;
        const all = now.data.groups.flatMap((g) => g.rules);
        return all.every((r) => r.health === 'ok') ? true : undefined;
      },
      { timeoutMs: 10_000, what: 'every alert rule to have been evaluated without error' },
    );
  });

  it("grep <correlation id> over the five services' logs tells the order's story", () => {
    const linesOf = (app: (typeof APPS)[number]) =>
      platform.output[app]
        .join('')
        .split('\n')
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as Record<string, unknown>];
          } catch {
            return []; // not a log record (or one cut at the start of the kept output)
          }
        });
    for (const app of ['gateway', 'risk', 'execution', 'audit'] as const) {
      const lines = linesOf(app).filter((l) => l.correlationId === correlationId);
      expect({ app, found: lines.length > 0 }).toEqual({ app, found: true });
    }
    // The gateway's access line for the request: once, its path, its answer.
    const access = linesOf('gateway').filter(
      (l) => l.correlationId === correlationId && l.msg === 'request completed',
    );
    expect(access).toEqual([
      expect.objectContaining({
        req: { id: correlationId, method: 'POST', url: '/v1/orders' },
        res: { statusCode: 202 },
      }),
    ]);
    // And no key ever reaches a log line.
    const everything = APPS.map((app) => platform.output[app].join('')).join('\n');
    for (const key of [keys.trader, keys.approverA, keys.approverB, platform.adminKey]) {
      expect(everything).not.toContain(key);
    }
  });
});
