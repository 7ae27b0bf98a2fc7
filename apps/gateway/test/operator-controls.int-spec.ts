import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { JobName, QueueName, orderCancelRequestedSchema } from '@desk/contracts';
import { Outbox, SERVICE_DATABASE_ROLES } from '@desk/platform';
import { waitFor } from '@desk/testing';
import { startGateway, type Gateway } from './gateway-harness';

const run = promisify(execFile);

/**
 * Operator controls at the gateway (issue 16): cancelling one order or a symbol's working orders (recorded,
 * sent to execution on the order-cancels queue, audited), and reading execution's balances and
 * reconciliations. Execution's side (the venue call) is not here: its receipts are written by hand.
 */
describe('operator controls: cancels, balances, reconciliations (real PostgreSQL and Redis)', () => {
  let gw: Gateway;
  let pg: Client;
  let trader: { key: string; keyId: string; operatorId: string };
  let viewer: { key: string };

  beforeAll(async () => {
    gw = await startGateway();
    pg = new Client({ connectionString: gw.config.DATABASE_URL });
    await pg.connect();
    trader = await gw.issueKey(['trader']);
    viewer = await gw.issueKey(['viewer']);
  });

  afterAll(async () => {
    await gw?.close();
    await pg?.end();
  });

  const as = (key: string, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object, headers = {}) =>
    gw.app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${key}`,
        ...(payload ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(payload ? { payload: JSON.stringify(payload) } : {}),
    });

  /** An order in the gateway's projection, in the status its owners last published (written as the owner). */
  const order = async (status: string, symbol = 'BTC/USDT'): Promise<string> => {
    const id = randomUUID();
    await pg.query(
      `INSERT INTO gateway.orders
         (id, source, symbol, side, type, quantity, price, status, status_phase, status_seq, submitted_at)
       VALUES ($1, 'operator', $2, 'buy', 'limit', '0.01', '50000', $3, 2, 1, now())`,
      [id, symbol, status],
    );
    return id;
  };

  const recorded = async (where: string, value: string) =>
    Number(
      (
        await pg.query<{ n: string }>(
          `SELECT count(*) AS n FROM gateway.cancel_requests WHERE ${where} = $1`,
          [value],
        )
      ).rows[0]!.n,
    );
  const outboxRows = async (jobName: string, path: string, value: string) =>
    Number(
      (
        await pg.query<{ n: string }>(
          `SELECT count(*) AS n FROM gateway.outbox WHERE job_name = $1 AND payload #>> $2::text[] = $3`,
          [jobName, `{${path}}`, value],
        )
      ).rows[0]!.n,
    );
  const cancelJob = async (requestId: string) => {
    await gw.app.get(Outbox).flush();
    return waitFor(async () => gw.queue(QueueName.OrderCancels).getJob(`${requestId}.cancel`), {
      what: `cancel ${requestId} on the order-cancels queue`,
    });
  };
  const cancelJobsAbout = async (field: 'intentId' | 'symbol', value: string) =>
    (
      await gw
        .queue(QueueName.OrderCancels)
        .getJobs(['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'], 0, 5000)
    ).filter((j) => (j.data as { target?: Record<string, string> }).target?.[field] === value);

  describe('DELETE /v1/orders/:id', () => {
    it('refuses a viewer (403) and records nothing', async () => {
      const id = await order('OPEN');
      const res = await as(viewer.key, 'DELETE', `/v1/orders/${id}`);
      expect(res.statusCode).toBe(403);
      expect(await recorded('intent_id', id)).toBe(0);
    });

    it('records the request and sends one job and one audit event; a repeat answers the same request', async () => {
      const id = await order('OPEN');
      const first = await as(trader.key, 'DELETE', `/v1/orders/${id}`);
      expect(first.statusCode).toBe(202);
      const requestId = first.json().requestId as string;
      expect(first.json()).toEqual({
        requestId: expect.any(String),
        orderId: id,
        status: 'CANCEL_REQUESTED',
      });

      const job = await cancelJob(requestId);
      expect(job.name).toBe(JobName.OrderCancelRequested);
      expect(orderCancelRequestedSchema.safeParse(job.data).success).toBe(true);
      expect(job.data).toMatchObject({
        requestId,
        target: { kind: 'order', intentId: id },
        actor: { type: 'operator', id: trader.operatorId, keyId: trader.keyId },
      });
      // The key id names the key; the key itself appears nowhere in the job.
      expect(JSON.stringify(job.data)).not.toContain(trader.key);
      expect(JSON.stringify(job.data)).not.toContain(trader.key.slice(-20));

      const again = await as(trader.key, 'DELETE', `/v1/orders/${id}`);
      expect(again.statusCode).toBe(202);
      expect(again.json().requestId).toBe(requestId);
      expect(await recorded('intent_id', id)).toBe(1);
      expect(await outboxRows(JobName.OrderCancelRequested, 'target,intentId', id)).toBe(1);
      expect(await outboxRows(JobName.AuditEvent, 'subject,id', id)).toBe(1);
      await gw.app.get(Outbox).flush();
      expect(await cancelJobsAbout('intentId', id)).toHaveLength(1);
      const [audit] = (
        await pg.query<{ payload: Record<string, unknown> }>(
          `SELECT payload FROM gateway.outbox WHERE job_name = $1 AND payload #>> '{subject,id}' = $2`,
          [JobName.AuditEvent, id],
        )
      ).rows;
      expect(audit!.payload).toMatchObject({
        action: 'order.cancel_requested',
        actor: { type: 'operator', id: trader.operatorId },
        subject: { type: 'order', id },
        payload: { requestId },
      });

      // The order shows who asked to cancel it.
      const view = await as(viewer.key, 'GET', `/v1/orders/${id}`);
      expect(view.json().cancelRequest).toEqual({
        requestId,
        requestedBy: { type: 'operator', id: trader.operatorId },
        requestedAt: expect.any(String),
      });
    });

    it('records one request when the same order is cancelled several times at once', async () => {
      const id = await order('OPEN');
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => as(trader.key, 'DELETE', `/v1/orders/${id}`)),
      );
      expect(answers.map((a) => a.statusCode)).toEqual([202, 202, 202, 202, 202]);
      expect(new Set(answers.map((a) => a.json().requestId as string)).size).toBe(1);
      expect(await recorded('intent_id', id)).toBe(1);
    });

    it('sends a new request once execution has run the first (its receipt)', async () => {
      const id = await order('PARTIALLY_FILLED');
      const first = (await as(trader.key, 'DELETE', `/v1/orders/${id}`)).json().requestId as string;
      await pg.query(`INSERT INTO execution.cancel_request_runs (request_id, cancelled) VALUES ($1, 0)`, [
        first,
      ]);
      const second = await as(trader.key, 'DELETE', `/v1/orders/${id}`);
      expect(second.statusCode).toBe(202);
      expect(second.json().requestId).not.toBe(first);
      expect(await recorded('intent_id', id)).toBe(2);
    });

    it('replays the stored answer for the same Idempotency-Key', async () => {
      const id = await order('OPEN');
      const key = { 'idempotency-key': randomUUID() };
      const first = await as(trader.key, 'DELETE', `/v1/orders/${id}`, undefined, key);
      const second = await as(trader.key, 'DELETE', `/v1/orders/${id}`, undefined, key);
      expect(second.statusCode).toBe(202);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.json()).toEqual(first.json());
    });

    it.each(['CANCELLED', 'EXPIRED'])(
      'answers 200 with the status of an order already %s',
      async (status) => {
        const id = await order(status);
        const res = await as(trader.key, 'DELETE', `/v1/orders/${id}`);
        expect(res.statusCode).toBe(200);
        expect(res.json()).toEqual({ orderId: id, status });
        expect(await recorded('intent_id', id)).toBe(0);
      },
    );

    it.each(['FILLED', 'REJECTED', 'VENUE_REJECTED'])(
      'answers 409 ORDER_NOT_CANCELLABLE for an order %s',
      async (status) => {
        const id = await order(status);
        const res = await as(trader.key, 'DELETE', `/v1/orders/${id}`);
        expect(res.statusCode).toBe(409);
        expect(res.json().error).toMatchObject({
          code: 'ORDER_NOT_CANCELLABLE',
          requestId: expect.any(String),
        });
        expect(await recorded('intent_id', id)).toBe(0);
      },
    );

    it('answers 404 for an unknown order and 400 for an id that is not one', async () => {
      const unknown = await as(trader.key, 'DELETE', `/v1/orders/${randomUUID()}`);
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json().error.code).toBe('NOT_FOUND');
      const malformed = await as(trader.key, 'DELETE', '/v1/orders/not-an-id');
      expect(malformed.statusCode).toBe(400);
      expect(malformed.json().error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'id' }] });
    });

    it('shows execution (alone) each request through gateway.cancel_request_sources', async () => {
      const id = await order('OPEN');
      const requestId = (await as(trader.key, 'DELETE', `/v1/orders/${id}`)).json().requestId as string;
      const readAs = async (role: string) => {
        await pg.query('BEGIN');
        try {
          await pg.query(`SET LOCAL ROLE ${role}`);
          return (
            await pg.query(`SELECT * FROM gateway.cancel_request_sources WHERE request_id = $1`, [requestId])
          ).rows;
        } finally {
          await pg.query('ROLLBACK');
        }
      };
      expect(await readAs(SERVICE_DATABASE_ROLES.execution)).toEqual([
        {
          request_id: requestId,
          actor_type: 'operator',
          actor_id: trader.operatorId,
          actor_key_id: trader.keyId,
          target_kind: 'order',
          intent_id: id,
          symbol: null,
          requested_at: expect.any(Date),
        },
      ]);
      await expect(readAs(SERVICE_DATABASE_ROLES.risk)).rejects.toThrow(/permission denied/);
    });
  });

  describe('POST /v1/orders/cancel-all', () => {
    it('sends one cancel for the symbol; a repeat while it is pending answers the same request', async () => {
      const res = await as(trader.key, 'POST', '/v1/orders/cancel-all', { symbol: 'ETH/USDT' });
      expect(res.statusCode).toBe(202);
      const requestId = res.json().requestId as string;
      expect(res.json()).toEqual({ requestId, symbol: 'ETH/USDT', status: 'CANCEL_REQUESTED' });
      const job = await cancelJob(requestId);
      expect(orderCancelRequestedSchema.parse(job.data)).toMatchObject({
        target: { kind: 'symbol', symbol: 'ETH/USDT' },
        actor: { id: trader.operatorId },
      });
      const again = await as(trader.key, 'POST', '/v1/orders/cancel-all', { symbol: 'ETH/USDT' });
      expect(again.json().requestId).toBe(requestId);
      expect(await recorded('symbol', 'ETH/USDT')).toBe(1);
      expect(await outboxRows(JobName.AuditEvent, 'subject,id', 'ETH/USDT')).toBe(1);
    });

    it('refuses a viewer (403)', async () => {
      const res = await as(viewer.key, 'POST', '/v1/orders/cancel-all', { symbol: 'BTC/USDT' });
      expect(res.statusCode).toBe(403);
    });

    it.each([
      ['an unknown symbol', { symbol: 'DOGE/USDT' }, 'symbol'],
      ['a missing symbol', {}, 'symbol'],
      ['an unknown field', { symbol: 'BTC/USDT', side: 'buy' }, 'side'],
    ])('answers 400 for %s and records nothing', async (_, body, field) => {
      const before = Number((await pg.query(`SELECT count(*) AS n FROM gateway.cancel_requests`)).rows[0].n);
      const res = await as(trader.key, 'POST', '/v1/orders/cancel-all', body);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      expect(Number((await pg.query(`SELECT count(*) AS n FROM gateway.cancel_requests`)).rows[0].n)).toBe(
        before,
      );
    });
  });

  describe('GET /v1/balances and /v1/reconciliations', () => {
    it('answers 404 for the latest reconciliation before the first, and an empty list', async () => {
      expect((await as(viewer.key, 'GET', '/v1/reconciliations/latest')).statusCode).toBe(404);
      expect((await as(viewer.key, 'GET', '/v1/reconciliations')).json()).toEqual({ items: [] });
    });

    it('lists balances per venue and asset as decimal strings, filtered by venue and asset', async () => {
      await pg.query(
        `INSERT INTO execution.balances (venue, asset, free, used, total, updated_at) VALUES
           ('binance', 'USDT', 1000.50000000, 250.25, 1250.75, '2026-12-01T10:00:00Z'),
           ('binance', 'BTC', 0.10000000, 0, 0.1, '2026-12-01T10:00:00Z'),
           ('kraken', 'USDT', 5, 0, 5, '2026-12-01T11:00:00Z')`,
      );
      const all = await as(viewer.key, 'GET', '/v1/balances');
      expect(all.statusCode).toBe(200);
      expect(all.json().items).toEqual([
        {
          venue: 'binance',
          asset: 'BTC',
          free: '0.1',
          used: '0',
          total: '0.1',
          updatedAt: '2026-12-01T10:00:00.000Z',
        },
        {
          venue: 'binance',
          asset: 'USDT',
          free: '1000.5',
          used: '250.25',
          total: '1250.75',
          updatedAt: '2026-12-01T10:00:00.000Z',
        },
        {
          venue: 'kraken',
          asset: 'USDT',
          free: '5',
          used: '0',
          total: '5',
          updatedAt: '2026-12-01T11:00:00.000Z',
        },
      ]);
      const usdt = await as(trader.key, 'GET', '/v1/balances?asset=USDT&venue=kraken');
      expect(usdt.json().items).toEqual([expect.objectContaining({ venue: 'kraken', asset: 'USDT' })]);
    });

    it.each([
      ['/v1/balances?venue=Bin%20ance', 'venue'],
      ['/v1/balances?asset=usdt;drop', 'asset'],
      ['/v1/balances?owner=me', 'owner'],
      ['/v1/reconciliations?limit=0', 'limit'],
      ['/v1/reconciliations?limit=101', 'limit'],
      ['/v1/reconciliations?limit=ten', 'limit'],
    ])('answers 400 for %s', async (url, field) => {
      const res = await as(viewer.key, 'GET', url);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.details).toEqual([expect.objectContaining({ field })]);
    });

    it('lists reconciliations newest first, limited, and the newest alone', async () => {
      const findings = [{ kind: 'missing_fill', orderId: randomUUID(), detail: 'applied the venue fill' }];
      for (const [venue, startedAt, outcome] of [
        ['binance', '2026-12-01T10:00:00Z', 'in_sync'],
        ['binance', '2026-12-01T12:00:00Z', 'differences'],
        ['binance', '2026-12-01T11:00:00Z', 'failed'],
      ] as const) {
        await pg.query(
          `INSERT INTO execution.reconciliations (venue, trigger, started_at, finished_at, outcome, findings)
           VALUES ($1, 'startup', $2, $2::timestamptz + interval '2 seconds', $3, $4::jsonb)`,
          [venue, startedAt, outcome, JSON.stringify(outcome === 'differences' ? findings : [])],
        );
      }
      const list = await as(viewer.key, 'GET', '/v1/reconciliations?limit=2');
      expect(list.statusCode).toBe(200);
      expect(list.json().items.map((r: { outcome: string }) => r.outcome)).toEqual(['differences', 'failed']);
      const latest = await as(viewer.key, 'GET', '/v1/reconciliations/latest');
      expect(latest.json()).toEqual({
        id: expect.any(String),
        venue: 'binance',
        trigger: 'startup',
        startedAt: '2026-12-01T12:00:00.000Z',
        finishedAt: '2026-12-01T12:00:02.000Z',
        outcome: 'differences',
        findings,
      });
      expect((await as(viewer.key, 'GET', '/v1/reconciliations')).json().items).toHaveLength(3);
    });
  });

  describe('the console, as the operator whose key is in DESK_API_KEY', () => {
    let port: number;
    beforeAll(async () => {
      await gw.app.listen(0, '127.0.0.1');
      port = (gw.app.getHttpServer().address() as { port: number }).port;
    });

    /** The console as a person runs it; resolves with its output and exit code (never throws on exit 1/2). */
    const cli = async (args: string[], key: string | undefined) => {
      try {
        const { stdout, stderr } = await run(
          process.execPath,
          [join(__dirname, '..', 'dist', 'cli.js'), ...args],
          {
            encoding: 'utf8',
            env: {
              PATH: process.env.PATH ?? '',
              GATEWAY_PORT: String(port),
              ...(key === undefined ? {} : { DESK_API_KEY: key }),
            },
          },
        );
        return { code: 0, stdout, stderr };
      } catch (error) {
        const e = error as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };

    it('cancels an order as the trader (default API URL from GATEWAY_PORT) and prints the answer', async () => {
      const id = await order('OPEN');
      const out = await cli(['orders', 'cancel', id], trader.key);
      expect(out.code).toBe(0);
      const body = JSON.parse(out.stdout) as { requestId: string };
      expect(body).toEqual({ requestId: expect.any(String), orderId: id, status: 'CANCEL_REQUESTED' });
      const [row] = (
        await pg.query(`SELECT actor_id, actor_key_id FROM gateway.cancel_requests WHERE id = $1`, [
          body.requestId,
        ])
      ).rows;
      expect(row).toEqual({ actor_id: trader.operatorId, actor_key_id: trader.keyId });
      expect(out.stdout + out.stderr).not.toContain(trader.key);
    });

    it('exits non-zero with the API error, never printing the key', async () => {
      const id = await order('OPEN');
      const refused = await cli(
        ['orders', 'cancel', id, '--api-url', `http://127.0.0.1:${port}`],
        viewer.key,
      );
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/^FORBIDDEN: /);
      expect(refused.stdout).toBe('');
      expect(refused.stdout + refused.stderr).not.toContain(viewer.key);

      const filled = await cli(['orders', 'cancel', await order('FILLED')], trader.key);
      expect(filled.code).toBe(2);
      expect(filled.stderr).toMatch(/ORDER_NOT_CANCELLABLE: .*FILLED/);

      const bad = await cli(['orders', 'cancel-all', '--symbol', 'DOGE/USDT'], trader.key);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/VALIDATION_FAILED[\s\S]*- symbol: unknown symbol/);

      const noKey = await cli(['balances'], undefined);
      expect(noKey.code).toBe(2);
      expect(noKey.stderr).toMatch(/DESK_API_KEY is not set/);

      const unreachable = await cli(['balances', '--api-url', 'http://127.0.0.1:1'], viewer.key);
      expect(unreachable.code).toBe(1);
      expect(unreachable.stderr).toMatch(/could not reach the gateway/);
      expect(unreachable.stderr).not.toContain(viewer.key);
    });

    it('cancels a symbol, and reads balances and reconciliations', async () => {
      const all = await cli(['orders', 'cancel-all', '--symbol', 'SOL/USDT'], trader.key);
      expect(all.code).toBe(0);
      expect(JSON.parse(all.stdout)).toMatchObject({ symbol: 'SOL/USDT', status: 'CANCEL_REQUESTED' });

      const balances = await cli(['balances', '--venue', 'kraken'], viewer.key);
      expect(balances.code).toBe(0);
      expect(JSON.parse(balances.stdout)).toEqual({
        items: [expect.objectContaining({ venue: 'kraken', asset: 'USDT', total: '5' })],
      });

      const recon = await cli(['reconciliation', '--limit', '1'], viewer.key);
      expect(recon.code).toBe(0);
      expect(JSON.parse(recon.stdout).items).toEqual([expect.objectContaining({ outcome: 'differences' })]);
    });
  });
});
