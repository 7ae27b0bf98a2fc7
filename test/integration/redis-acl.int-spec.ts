import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { AUDIT_QUEUES, JobName, QUEUE_TOPOLOGY, QueueName, ServiceName, queuesOf } from '@desk/contracts';
import {
  DESK_SERVICES,
  ensureRedisUsers,
  envFor,
  redisOptions,
  redisPasswordVar,
  withLocalRedisUrls,
  type DeskService,
} from '@desk/platform';
import { freePort, REPO_ROOT, waitFor } from '@desk/testing';

const SERVICE: Record<DeskService, ServiceName> = {
  gateway: ServiceName.Gateway,
  'agent-analysis': ServiceName.AgentAnalysis,
  risk: ServiceName.Risk,
  execution: ServiceName.Execution,
  audit: ServiceName.Audit,
};

/**
 * docs/adr/0009-least-privilege.md, Redis part, as the attack. A Redis of its own (the shared one has no
 * password and is left alone), loaded with the ACL file operators deploy (infra/redis/users.acl, its
 * placeholder passwords replaced): the desk's queues work as a service user, within the desk's prefix;
 * a client without credentials, or with a wrong password, is refused; a service user cannot reach keys
 * outside the prefix, nor run administrative commands.
 */
/** A redis-server of the test's own on a free port (the shared one is left alone); `extra` adds arguments. */
async function startRedisServer(
  dir: string,
  extra: (port: number) => string[] = () => [],
): Promise<{ server: ChildProcess; port: number }> {
  const port = await freePort();
  const args = [
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
  ];
  const server = spawn('redis-server', [...args, ...extra(port)], { stdio: 'ignore' });
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
  return { server, port };
}

async function stopRedisServer(server: ChildProcess | undefined): Promise<void> {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
}

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
    dir = mkdtempSync(join(tmpdir(), 'desk-redis-acl-'));
    ({ server, port } = await startRedisServer(dir, (p) => {
      const acl = readFileSync(join(REPO_ROOT, 'infra', 'redis', 'users.acl'), 'utf8').replace(
        />change-me-([a-z-]+)/g,
        (_m, user: string) => `>test-desk-${user}-${p}`,
      );
      writeFileSync(join(dir, 'users.acl'), acl, { mode: 0o600 });
      return ['--aclfile', join(dir, 'users.acl')];
    }));
  });

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await stopRedisServer(server);
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
    // Its own keys work; the prices it only reads (agent-analysis writes them).
    await expect(risk.hget('desk:market:last', 'BTC/USDT')).resolves.toBeNull();
    await expect(risk.hset('desk:market:last', 'BTC/USDT', '1|1')).rejects.toThrow(/NOPERM/);
    const agents = client(url('desk-agent-analysis'));
    await agents.connect();
    await expect(agents.hset('desk:market:last', 'BTC/USDT', '1|1')).resolves.toBe(1);
  });

  /** Adds a job as `user` would (BullMQ's add script); resolves to the error message, or 'added'. */
  async function addAs(user: string, queueName: string, name: string, jobId: string): Promise<string> {
    const queue = new Queue(queueName, { connection: redisOptions(url(user)), prefix: 'desk' });
    queue.on('error', () => undefined);
    try {
      await queue.add(name, { forged: true }, { jobId });
      return 'added';
    } catch (error) {
      return (error as Error).message;
    } finally {
      await queue.close();
    }
  }

  it("a service cannot add an event to another service's audit queue, nor the retired shared one", async () => {
    // The attack (docs/adr/0016): with risk's password, an event in the gateway's (or audit's) name.
    expect(await addAs('desk-risk', QueueName.AuditGateway, JobName.AuditEvent, 'forged-1')).toMatch(
      /NOPERM/,
    );
    expect(await addAs('desk-risk', QueueName.AuditAudit, JobName.AuditEvent, 'forged-2')).toMatch(/NOPERM/);
    expect(await addAs('desk-execution', QueueName.Audit, JobName.AuditEvent, 'forged-3')).toMatch(/NOPERM/);
    expect(await addAs('desk-gateway', QueueName.AuditRisk, JobName.AuditEvent, 'forged-4')).toMatch(
      /NOPERM/,
    );
    // Its own audit queue, yes.
    expect(await addAs('desk-risk', QueueName.AuditRisk, JobName.AuditEvent, 'own-1')).toBe('added');
    const admin = client(url('desk-audit'));
    await admin.connect();
    expect(await admin.exists('desk:audit.gateway:forged-1', 'desk:audit.audit:forged-2')).toBe(0);
  });

  it('a service cannot add a job to a queue it does not produce to or consume from (QUEUE_TOPOLOGY)', async () => {
    for (const service of DESK_SERVICES) {
      const own = queuesOf(SERVICE[service]);
      for (const route of QUEUE_TOPOLOGY) {
        const [job] = route.jobs;
        if (!job) continue;
        const outcome = await addAs(`desk-${service}`, route.queue, job, `try-${service}`);
        expect({ service, queue: route.queue, allowed: outcome === 'added' }).toEqual({
          service,
          queue: route.queue,
          allowed: own.includes(route.queue),
        });
        if (!own.includes(route.queue)) expect(outcome).toMatch(/NOPERM/);
      }
    }
    // For example: execution cannot submit intents, agent-analysis cannot send a kill.
    expect(await addAs('desk-execution', QueueName.Intents, JobName.IntentSubmitted, 'x')).toMatch(/NOPERM/);
    expect(await addAs('desk-agent-analysis', QueueName.Control, JobName.ControlCommand, 'x')).toMatch(
      /NOPERM/,
    );
  });

  it('the audit service consumes every audit queue as its own user', async () => {
    const connection = redisOptions(url('desk-audit'));
    const seen: string[] = [];
    const workers = Object.values(AUDIT_QUEUES).map(
      (queueName) =>
        new Worker(
          queueName,
          async (job) => {
            seen.push(`${queueName}/${String(job.id)}`);
          },
          { connection, prefix: 'desk' },
        ),
    );
    try {
      expect(await addAs('desk-execution', QueueName.AuditExecution, JobName.AuditEvent, 'e-1')).toBe(
        'added',
      );
      expect(await addAs('desk-audit', QueueName.AuditAudit, JobName.AuditEvent, 'a-1')).toBe('added');
      await waitFor(
        async () =>
          ['audit.risk/own-1', 'audit.execution/e-1', 'audit.audit/a-1'].every((k) => seen.includes(k))
            ? true
            : undefined,
        { timeoutMs: 10_000, what: 'the audit queues consumed' },
      );
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  });
});

describe('npm start on a machine whose Redis has an open default user (the local set-up)', () => {
  let server: ChildProcess | undefined;
  let dir: string;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'desk-redis-local-'));
    ({ server, port } = await startRedisServer(dir));
  });

  afterAll(async () => {
    await stopRedisServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes one ACL user per service: each service works as its own user, within the prefix, and no further', async () => {
    const passwords = Object.fromEntries(DESK_SERVICES.map((s) => [s, `pw-${s}-${port}`])) as Record<
      DeskService,
      string
    >;
    const admin = new Redis({ ...redisOptions(`redis://127.0.0.1:${port}`), lazyConnect: true });
    await admin.connect();
    try {
      await ensureRedisUsers(admin, 'localdesk', passwords);
      await ensureRedisUsers(admin, 'localdesk', passwords); // again, as every npm start does: no change
    } finally {
      admin.disconnect();
    }
    const env = withLocalRedisUrls({
      REDIS_URL: `redis://127.0.0.1:${port}`,
      ...Object.fromEntries(DESK_SERVICES.map((s) => [redisPasswordVar(s), passwords[s]])),
    });
    const url = envFor('execution', env).REDIS_URL ?? '';
    expect(url).toMatch(/^redis:\/\/desk-execution:/);
    const connection = redisOptions(url);
    const queue = new Queue('orders', { connection, prefix: 'localdesk' });
    const done: string[] = [];
    const worker = new Worker('orders', async (job) => void done.push(String(job.id)), {
      connection,
      prefix: 'localdesk',
    });
    const execution = new Redis({ ...connection, lazyConnect: true });
    try {
      await queue.add('order.accepted', { n: 1 }, { jobId: 'o-1' });
      await waitFor(async () => (done.includes('o-1') ? true : undefined), {
        what: 'the job',
        timeoutMs: 10_000,
      });
      await execution.connect();
      await expect(execution.get('desk:market:last')).rejects.toThrow(/NOPERM/);
      await expect(execution.call('ACL', 'SETUSER', 'desk-execution', '~*')).rejects.toThrow(/NOPERM/);
      const wrong = new Redis({
        ...redisOptions(url.replace(passwords.execution, 'guess')),
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      const seen: string[] = [];
      wrong.on('error', (error: Error) => seen.push(error.message));
      await wrong.connect().catch((error: Error) => seen.push(error.message));
      expect(seen.join(' | ')).toMatch(/WRONGPASS/);
      wrong.disconnect();
    } finally {
      execution.disconnect();
      await worker.close();
      await queue.close();
    }
  });
});
