import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Fastify, { type FastifyInstance } from 'fastify';
import { createServiceLogger, logRequests, requestIdOf } from './logging';

/**
 * The request logging every service's HTTP app gets (bootstrap.ts): a real Fastify server over real HTTP,
 * with the services' root logger writing JSON lines into an array.
 */
describe('request logs', () => {
  const lines: Record<string, unknown>[] = [];
  const logger = createServiceLogger(
    'test',
    'info',
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    }),
  );
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    app = Fastify({ genReqId: (req) => requestIdOf(req), requestIdHeader: false });
    logRequests(app, logger);
    // A handler that logs after waiting, so that concurrent requests' lines interleave.
    app.post('/work', async (request) => {
      const { waitMs } = request.body as { waitMs: number };
      await sleep(waitMs);
      logger.info({ waited: waitMs }, 'worked');
      return { ok: true };
    });
    app.get('/search', async () => ({ ok: true }));
    app.get('/health/live', async () => ({ ok: true }));
    app.get('/broken', async () => {
      throw new Error('boom');
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
  });

  const post = (id: string, waitMs: number) =>
    fetch(`${base}/work`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ waitMs }),
    });
  const linesOf = (msg: string) => lines.filter((l) => l.msg === msg);

  it("a line logged while handling a request carries that request's id, even with requests interleaved", async () => {
    const answers = await Promise.all([post('req-slow', 60), post('req-fast', 5), post('req-mid', 30)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    const worked = linesOf('worked').map((l) => [l.waited, l.correlationId]);
    expect(worked).toEqual(
      expect.arrayContaining([
        [60, 'req-slow'],
        [5, 'req-fast'],
        [30, 'req-mid'],
      ]),
    );
    logger.info('idle');
    expect(linesOf('idle')[0]).not.toHaveProperty('correlationId');
  });

  it('each answered request has one access line: id, method, path without its query string, status', async () => {
    const res = await fetch(`${base}/search?api_key=query-secret-123&symbol=BTC`, {
      headers: { 'x-request-id': 'req-search' },
    });
    expect(res.status).toBe(200);
    const access = linesOf('request completed').filter((l) => l.correlationId === 'req-search');
    expect(access).toHaveLength(1);
    await sleep(20);
    expect(lines.filter((l) => l.correlationId === 'req-search').map((l) => l.msg)).toEqual([
      'request completed',
    ]);
    expect(access[0]).toMatchObject({
      service: 'test',
      req: { id: 'req-search', method: 'GET', url: '/search' },
      res: { statusCode: 200 },
    });
    expect(typeof access[0]!.responseTime).toBe('number');
    expect(JSON.stringify(lines)).not.toContain('query-secret-123');
  });

  it('a request whose client hangs up before the answer is logged as aborted', async () => {
    const gone = new AbortController();
    const request = fetch(`${base}/work`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-gone' },
      body: JSON.stringify({ waitMs: 300 }),
      signal: gone.signal,
    });
    await sleep(50);
    gone.abort();
    await expect(request).rejects.toThrow();
    await sleep(400);
    const mine = lines.filter((l) => l.correlationId === 'req-gone');
    expect(mine).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          msg: 'request aborted',
          req: { id: 'req-gone', method: 'POST', url: '/work' },
        }),
      ]),
    );
  });

  it('a failed request is logged as errored; health probes are not logged', async () => {
    expect((await fetch(`${base}/broken`, { headers: { 'x-request-id': 'req-broken' } })).status).toBe(500);
    expect(linesOf('request errored')).toEqual([
      expect.objectContaining({
        req: expect.objectContaining({ id: 'req-broken' }),
        res: { statusCode: 500 },
      }),
    ]);
    const before = lines.length;
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    await sleep(20);
    expect(
      lines.slice(before).filter((l) => String((l.req as { url?: string })?.url).startsWith('/health')),
    ).toEqual([]);
  });
});
