import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGateway, type Gateway } from './gateway-harness';

/** Hostile input over a real socket: each gets a clear 4xx, nothing changes, and the process keeps serving. */
describe('hostile input (real HTTP server)', () => {
  let gw: Gateway;
  let port: number;
  let trader: string;

  beforeAll(async () => {
    gw = await startGateway();
    trader = (await gw.issueKey(['trader'])).key;
    await gw.app.listen(0, '127.0.0.1');
    port = (gw.app.getHttpServer().address() as AddressInfo).port;
  });

  afterAll(() => gw.close());

  const send = (
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: init.headers },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end(init.body);
    });

  const alive = async () => (await send('/v1/me', { headers: { authorization: `Bearer ${trader}` } })).status;

  it('refuses an oversized header block (431) and a very long URL (414)', async () => {
    // Raw socket: Node answers 431 and closes before reading the rest, which an HTTP client reports as a hang-up.
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(`GET /v1/me HTTP/1.1\r\nHost: x\r\nX-Pad: ${'x'.repeat(20_000)}\r\n\r\n`);
      });
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', (e) => (text ? resolve(text) : reject(e)));
    });
    expect(raw).toMatch(/^HTTP\/1\.1 431 /);
    const long = await send(`/v1/orders?symbol=${'A'.repeat(5000)}`, {
      headers: { authorization: `Bearer ${trader}` },
    });
    expect(long.status).toBe(414);
    expect(JSON.parse(long.body).error.code).toBe('URI_TOO_LONG');
    expect(await alive()).toBe(200);
  });

  it('refuses deeply nested JSON and odd content types without harm', async () => {
    const headers = {
      authorization: `Bearer ${trader}`,
      'content-type': 'application/json',
      'idempotency-key': randomUUID(),
    };
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const nested = await send('/v1/orders', { method: 'POST', headers, body: deep });
    expect(nested.status).toBe(400);
    const deepObject = `{"symbol":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)},"side":"buy","type":"market","quantity":"1"}`;
    const inField = await send('/v1/orders', {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': randomUUID() },
      body: deepObject,
    });
    expect(inField.status).toBe(400);
    expect(JSON.parse(inField.body).error.details[0].field).toBe('symbol');
    const xml = await send('/v1/orders', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/xml' },
      body: '<order/>',
    });
    expect(xml.status).toBe(415);
    expect(await alive()).toBe(200);
  });

  it('treats unicode look-alikes in symbols as unknown, not as the real thing', async () => {
    const headers = {
      authorization: `Bearer ${trader}`,
      'content-type': 'application/json',
      'idempotency-key': randomUUID(),
    };
    for (const symbol of ['ВТС/USDT', 'BTC／USDT', 'BTC/USDT\u200b', 'btc/usdt']) {
      const res = await send('/v1/orders', {
        method: 'POST',
        headers: { ...headers, 'idempotency-key': randomUUID() },
        body: JSON.stringify({ symbol, side: 'buy', type: 'market', quantity: '1' }),
      });
      expect({ symbol, status: res.status }).toEqual({ symbol, status: 400 });
    }
  });
});
