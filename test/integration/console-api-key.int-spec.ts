import { execFile } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { REPO_ROOT } from '@desk/testing';

const execFileAsync = promisify(execFile);

/**
 * `npm run cli -- orders …` as an operator runs it (scripts/cli.mjs, which gives the gateway's console only
 * the gateway's variables): the operator's key in DESK_API_KEY must reach the API as their bearer key. A
 * local HTTP server stands in for the gateway and records what arrives.
 */
describe('the console wrapper (npm run cli) passes the operator’s DESK_API_KEY to the API, and only there', () => {
  let server: Server;
  const seen: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ requestId: '11111111-1111-4111-8111-111111111111', status: 'CANCEL_REQUESTED' }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('orders cancel reaches DELETE /v1/orders/:id with the key as bearer, and prints the answer without it', async () => {
    const key = 'dsk_test_console_key_0123456789abcdef';
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const orderId = '22222222-2222-4222-8222-222222222222';
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      [join(REPO_ROOT, 'scripts', 'cli.mjs'), 'orders', 'cancel', orderId, '--api-url', url],
      { cwd: REPO_ROOT, env: { ...process.env, DESK_API_KEY: key }, encoding: 'utf8' },
    );
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'DELETE', url: `/v1/orders/${orderId}` });
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${key}`);
    expect(JSON.parse(stdout)).toMatchObject({ status: 'CANCEL_REQUESTED' });
    expect(stdout + stderr).not.toContain(key);
  });
});
