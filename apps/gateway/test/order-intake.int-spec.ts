import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QueueName } from '@desk/contracts';
import { Outbox } from '@desk/platform';
import { waitFor } from '@desk/testing';
import { startGateway, type Gateway } from './gateway-harness';

/** "Stores nothing" counts every row of the gateway's intake tables: in this file's own database. */
describe('gateway order intake (real PostgreSQL and Redis)', () => {
  let gw: Gateway;
  let app: Gateway['app'];
  let apiKey: string;
  let intents: Queue;
  let pg: Client;

  beforeAll(async () => {
    gw = await startGateway();
    pg = new Client({ connectionString: gw.config.DATABASE_URL });
    app = gw.app;
    apiKey = (await gw.issueKey(['trader'])).key;
    intents = gw.queue(QueueName.Intents);
    await pg.connect();
  });

  afterAll(async () => {
    await gw?.close();
    await pg?.end();
  });

  const post = (payload: string | object, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: {
        authorization: `Bearer ${apiKey}`,
        'content-type': 'application/json',
        'idempotency-key': randomUUID(),
        ...headers,
      },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });

  const stored = async () => {
    const r = await pg.query<{ n: string }>(
      `SELECT (SELECT count(*) FROM gateway.submissions) + (SELECT count(*) FROM gateway.outbox) + (SELECT count(*) FROM gateway.idempotency_keys) AS n`,
    );
    return Number(r.rows[0]!.n) + (await intents.count());
  };

  const valid = { symbol: 'BTC/USDT', side: 'buy', type: 'limit', quantity: '0.01', price: '50000' };

  it.each([
    ['malformed JSON', '{"symbol": "BTC/USDT",', '(body)', /not valid JSON/],
    ['a JSON array', [valid], '(body)', /JSON object/],
    ['an unknown field', { ...valid, leverage: '10' }, 'leverage', /unknown field/],
    ['an unknown symbol', { ...valid, symbol: 'DOGE/USDT' }, 'symbol', /unknown symbol/],
    ['a symbol that is not a symbol', { ...valid, symbol: 'BTC/USDT\u202e' }, 'symbol', /BTC\/USDT/],
    ['a zero quantity', { ...valid, quantity: '0' }, 'quantity', /greater than 0/],
    ['a negative quantity', { ...valid, quantity: '-1' }, 'quantity', /non-negative decimal/],
    [
      'a limit order without a price',
      { symbol: 'BTC/USDT', side: 'buy', type: 'limit', quantity: '1' },
      'price',
      /required/,
    ],
    ['a market order with a price', { ...valid, type: 'market' }, 'price', /omitted/],
    ['too many quantity decimals', { ...valid, quantity: '0.0000001' }, 'quantity', /at most 6 decimals/],
    ['too many price decimals', { ...valid, price: '50000.001' }, 'price', /at most 2 decimals/],
    ['a non-numeric quantity', { ...valid, quantity: 'abc' }, 'quantity', /decimal string/],
    ['a quantity sent as a JSON number', { ...valid, quantity: 0.01 }, 'quantity', /must be of type string/],
    ['an exponent', { ...valid, quantity: '1e3' }, 'quantity', /decimal string/],
    ['an unknown side', { ...valid, side: 'hold' }, 'side', /./],
    ['a missing symbol', { side: 'buy', type: 'market', quantity: '1' }, 'symbol', /required/],
  ])(
    'answers 400 naming the field for %s, and stores and enqueues nothing',
    async (_, body, field, reason) => {
      const before = await stored();
      const res = await post(body);
      expect(res.statusCode).toBe(400);
      const error = res.json().error;
      expect(error.requestId).toEqual(expect.any(String));
      if (field === '(body)' && error.code === 'MALFORMED_BODY') {
        expect(error.message).toMatch(reason);
      } else {
        expect(error.code).toBe('VALIDATION_FAILED');
        expect(error.details).toEqual(
          expect.arrayContaining([{ field, reason: expect.stringMatching(reason) }]),
        );
      }
      expect(await stored()).toBe(before);
    },
  );

  it('requires an Idempotency-Key to submit an order', async () => {
    const before = await stored();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      payload: JSON.stringify(valid),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('IDEMPOTENCY_KEY_MISSING');
    expect(await stored()).toBe(before);
  });

  it('refuses a body that is not JSON (415) or too large (413)', async () => {
    const text = await post('symbol=BTC/USDT', { 'content-type': 'text/plain' });
    expect(text.statusCode).toBe(415);
    expect(text.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const huge = await post({ ...valid, pad: 'x'.repeat(gw.config.GATEWAY_BODY_LIMIT_BYTES) });
    expect(huge.statusCode).toBe(413);
  });

  it('accepts a valid order: 202 with an id, and the intent is queued under that id', async () => {
    const res = await post(valid);
    expect(res.statusCode).toBe(202);
    const id = res.json().id as string;
    // The outbox relays the intent after the commit (the periodic flush may be the one that does it).
    await app.get(Outbox).flush();
    const job = await waitFor(async () => intents.getJob(id), { what: `intent ${id} on the queue` });
    expect(job.data).toMatchObject({
      intentId: id,
      source: 'operator',
      order: valid,
      actor: { type: 'operator', keyId: expect.stringMatching(/^kid_[0-9a-f]{16}$/) },
    });
    const view = await app.inject({
      method: 'GET',
      url: `/v1/orders/${id}`,
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(view.json()).toMatchObject({ id, status: 'RECEIVED', history: [{ status: 'RECEIVED' }] });
  });

  it('answers 404 for an unknown or malformed order id, and 400 for bad list queries', async () => {
    const auth = { authorization: `Bearer ${apiKey}` };
    expect(
      (await app.inject({ method: 'GET', url: `/v1/orders/${randomUUID()}`, headers: auth })).statusCode,
    ).toBe(404);
    expect(
      (await app.inject({ method: 'GET', url: '/v1/orders/%E2%80%AEabc', headers: auth })).statusCode,
    ).toBe(404);
    const unknownParam = await app.inject({ method: 'GET', url: '/v1/orders?colour=red', headers: auth });
    expect(unknownParam.statusCode).toBe(400);
    expect(unknownParam.json().error.details).toEqual([{ field: 'colour', reason: 'unknown field' }]);
    const badCursor = await app.inject({ method: 'GET', url: '/v1/orders?cursor=zzz', headers: auth });
    expect(badCursor.statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/v1/orders?limit=0', headers: auth })).statusCode).toBe(
      400,
    );
  });

  it('answers 400, never 500, to a crafted pagination cursor on every listing', async () => {
    const cursor = (...parts: string[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');
    const uuid = randomUUID();
    const crafted = {
      '/v1/orders': [
        cursor('1', uuid), // a date to JavaScript, not to PostgreSQL
        cursor('2026-02-31T00:00:00.000000Z', uuid), // no such day
        cursor('2026-12-01T00:00:00.000000Z', '-'.repeat(36)), // the shape of a uuid, not one
        cursor('+275760-09-13T00:00:00.000Z', uuid),
      ],
      '/v1/approvals': [
        cursor('1', uuid),
        cursor('2026-02-31T00:00:00.000000Z', uuid),
        cursor('2026-12-01T25:00:00.000000Z', uuid),
      ],
      '/v1/audit': [cursor('99999999999999999999'), cursor('-1'), cursor('1', '2')],
      '/v1/audit/checkpoints': [cursor('99999999999999999999'), cursor('1e3')],
    };
    for (const [path, cursors] of Object.entries(crafted)) {
      for (const c of cursors) {
        const res = await app.inject({
          method: 'GET',
          url: `${path}?cursor=${c}`,
          headers: { authorization: `Bearer ${gw.adminKey}` },
        });
        expect({ path, cursor: Buffer.from(c, 'base64url').toString(), status: res.statusCode }).toEqual({
          path,
          cursor: Buffer.from(c, 'base64url').toString(),
          status: 400,
        });
        expect(res.json().error.details).toEqual([
          { field: 'cursor', reason: 'is not a cursor returned by this API' },
        ]);
      }
    }
  });
});
