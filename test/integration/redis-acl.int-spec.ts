import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { redisOptions } from '@desk/platform';
import { REPO_ROOT, waitFor } from '@desk/testing';

/**
 * docs/adr/0009-least-privilege.md, Redis part, as the attack. A Redis of its own (the shared one has no
 * password and is left alone), loaded with the ACL file operators deploy (infra/redis/users.acl, its
 * placeholder passwords replaced): the desk's queues work as a service user, within the desk's prefix;
 * a client without credentials, or with a wrong password, is refused; a service user cannot reach keys
 * outside the prefix, nor run administrative commands.
 */
describe('Redis with per-service ACL users', () => {
  let server: ChildProcess | undefined;
  let dir: string;
  let port: number;
  const password = (user: string) => `test-${user}-${port}`;
  const url = (user: string, pw = password(user)) =>
    `redis://${user}:${encodeURIComponent(pw)}@127.0.0.1:${port}`;
  const clients: Redis[] = [];
  const client = (u: string) => {
    const c = new Redis({
      ...redisOptions(u),
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      lazyConnect: true,
    });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    port = await new Promise<number>((resolve, reject) => {
      const probe = createServer();
      probe.on('error', reject);
      probe.listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() =>
          typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
        );
      });
    });
    dir = mkdtempSync(join(tmpdir(), 'desk-redis-acl-'));
    const acl = readFileSync(join(REPO_ROOT, 'infra', 'redis', 'users.acl'), 'utf8').replace(
      />change-me-([a-z-]+)/g,
      (_m, user: string) => `>${password(`desk-${user}`)}`,
    );
    writeFileSync(join(dir, 'users.acl'), acl, { mode: 0o600 });
    server = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--aclfile',
        join(dir, 'users.acl'),
      ],
      { stdio: 'ignore' },
    );
    // Up once it accepts a connection.
    await waitFor(
      () =>
        new Promise<true | undefined>((resolve) => {
          const socket = connect(port, '127.0.0.1', () => {
            socket.destroy();
            resolve(true);
          });
          socket.on('error', () => resolve(undefined));
        }),
      { timeoutMs: 10_000, intervalMs: 100, what: 'the test redis-server' },
    );
  });

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    const running = server;
    if (running && running.exitCode === null) {
      const exited = new Promise((r) => running.once('exit', r));
      running.kill('SIGTERM');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a BullMQ queue and worker run as a service user, within the desk prefix', async () => {
    const connection = redisOptions(url('desk-risk'));
    const queue = new Queue('intents', { connection, prefix: 'desk' });
    const done: string[] = [];
    const worker = new Worker(
      'intents',
      async (job) => {
        done.push(String(job.id));
        return 'ok';
      },
      { connection, prefix: 'desk' },
    );
    try {
      await queue.add('intent.submitted', { n: 1 }, { jobId: 'job-1' });
      await waitFor(async () => (done.includes('job-1') ? true : undefined), {
        timeoutMs: 10_000,
        what: 'the job',
      });
      // KEYS is administrative (denied); SCAN within the prefix works and shows the queue's keys.
      await expect(client(url('desk-risk')).keys('*')).rejects.toThrow(/NOPERM/);
      const [, found] = await client(url('desk-risk')).scan('0', 'MATCH', 'desk:intents:*', 'COUNT', 1000);
      expect(found.length).toBeGreaterThan(0);
    } finally {
      await worker.close();
      await queue.close();
    }
  });

  /** What the server answers a client that tries a read: every error it reports, joined. */
  async function answer(u: string): Promise<string> {
    const c = new Redis({
      ...redisOptions(u),
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      lazyConnect: true,
    });
    const errors: string[] = [];
    c.on('error', (error: Error) => errors.push(error.message));
    try {
      await c.connect();
      await c.get('desk:market:last');
      errors.push('read allowed');
    } catch (error) {
      errors.push((error as Error).message);
    } finally {
      c.disconnect();
    }
    return errors.join(' | ');
  }

  it('a client without credentials is refused', async () => {
    expect(await answer(`redis://127.0.0.1:${port}`)).toMatch(/NOAUTH/);
  });

  it('a wrong password is refused', async () => {
    const seen = await answer(url('desk-risk', 'guess'));
    expect(seen).toMatch(/WRONGPASS/);
    expect(seen).not.toMatch(/read allowed/);
  });

  it('a service user cannot touch keys outside its prefix, nor run administrative commands', async () => {
    const risk = client(url('desk-risk'));
    await risk.connect();
    await expect(risk.set('other-platform:market:last', 'x')).rejects.toThrow(/NOPERM/);
    await expect(risk.get('bull:intents:meta')).rejects.toThrow(/NOPERM/);
    // Nor through a script, which runs with the caller's permissions.
    await expect(risk.eval(`return redis.call('SET', KEYS[1], 'x')`, 1, 'elsewhere')).rejects.toThrow(
      /NOPERM/,
    );
    await expect(risk.flushall()).rejects.toThrow(/NOPERM/);
    await expect(risk.config('SET', 'requirepass', '')).rejects.toThrow(/NOPERM/);
    await expect(risk.call('ACL', 'SETUSER', 'desk-risk', '~*')).rejects.toThrow(/NOPERM/);
    // Within the prefix it works.
    await expect(risk.hset('desk:market:last', 'BTC/USDT', '1|1')).resolves.toBe(1);
  });
});
