// The deployment tested for real (issue 15): docker-compose.yml brought up with `docker-compose up` on a
// real Docker engine, used through the gateway as an operator would, inspected, and torn down. On a machine
// without a registry the official images are replaced by local stand-ins (scripts/lib/docker.mjs) and Vault
// by the desk's fake Vault (test/docker/docker-compose.fake-vault.yml): no Vault server can be installed
// here. Nothing is published but the gateway, on loopback on a free port; the host's PostgreSQL and Redis
// are never touched.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { deskRequest, freePort, issueOperatorKey, REPO_ROOT, waitFor } from '@desk/testing';

const APPS = ['gateway', 'agent-analysis', 'risk', 'execution', 'audit'];
const LONG_RUNNING = [...APPS, 'postgres', 'redis', 'vault', 'prometheus'];
const PROJECT = `desk-test-${randomBytes(4).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'desk-compose-'));
const envFile = join(dir, 'compose.env');
const files = [
  '-f',
  join(REPO_ROOT, 'docker-compose.yml'),
  '-f',
  join(REPO_ROOT, 'test/docker/docker-compose.fake-vault.yml'),
];
// docker-compose sees only this (and the env file): never the developer's .env or this process's variables.
const childEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' };

function sh(command: string, args: string[], options: { allowFail?: boolean; input?: string } = {}): string {
  const r = spawnSync(command, args, {
    env: childEnv,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    input: options.input,
  });
  if (r.status !== 0 && !options.allowFail)
    throw new Error(`${command} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
const compose = (...args: string[]) =>
  sh('docker-compose', [
    '-p',
    PROJECT,
    '--project-directory',
    REPO_ROOT,
    '--env-file',
    envFile,
    ...files,
    ...args,
  ]);
const containerOf = (service: string) => compose('ps', '-q', service).trim();
const inspect = (service: string) =>
  (JSON.parse(sh('docker', ['inspect', containerOf(service)])) as Record<string, any>[])[0];
const exec = (service: string, ...args: string[]) =>
  spawnSync('docker', ['exec', containerOf(service), ...args], { encoding: 'utf8', env: childEnv });

let baseUrl = '';
let stackEnv: Record<string, string> = {};
let prepared = false;

describe('docker-compose deployment (stand-in images, local fake Vault)', () => {
  beforeAll(async () => {
    // Docker, the stand-in images and the desk's image (scripts/docker-stack.mjs).
    const out = execFileSync(process.execPath, [join(REPO_ROOT, 'scripts/docker-stack.mjs'), 'prepare'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 << 20,
    });
    const images = JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, string>;
    const keygen = execFileSync(process.execPath, [join(REPO_ROOT, 'apps/audit/dist/cli.js'), 'keygen'], {
      encoding: 'utf8',
    });
    const secret = () => randomBytes(24).toString('hex');
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    const env: Record<string, string> = {
      ...images,
      GATEWAY_PUBLISH_PORT: String(port),
      GRAFANA_PORT: String(await freePort()),
      POSTGRES_PASSWORD: secret(),
      OWNER_DATABASE_PASSWORD: secret(),
      REDIS_PASSWORD: secret(),
      VAULT_ROOT_TOKEN: secret(),
      GRAFANA_ADMIN_PASSWORD: secret(),
      AUDIT_SIGNING_KEY: /AUDIT_SIGNING_KEY=(\S+)/.exec(keygen)?.[1] ?? '',
      AUDIT_SIGNING_PUBLIC_KEY: /AUDIT_SIGNING_PUBLIC_KEY=(\S+)/.exec(keygen)?.[1] ?? '',
      // Fresh prices for the fill; agents not trading (the test's order is the only one).
      AGENT_SCHEDULE_MS: '1000',
      AGENT_TRADING_ENABLED: 'false',
      APP_CPUS: '0.5',
    };
    for (const p of ['GATEWAY', 'AGENT_ANALYSIS', 'RISK', 'EXECUTION', 'AUDIT']) {
      env[`${p}_DATABASE_PASSWORD`] = secret();
      env[`${p}_REDIS_PASSWORD`] = secret();
    }
    stackEnv = env;
    writeFileSync(
      envFile,
      Object.entries(env)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
      { mode: 0o600 },
    );
    prepared = true;
    // Grafana cannot run here (no image, no package): everything else comes up, as deployed (the five
    // services bring their dependencies: postgres, redis, vault, vault-init, migrate).
    compose('up', '-d', '--no-build', ...APPS, 'prometheus');
    await waitFor(
      async () => {
        const states = LONG_RUNNING.map((s) => inspect(s).State as { Health?: { Status: string } });
        return states.every((s) => s.Health?.Status === 'healthy') ? true : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 2000, what: 'every container healthy' },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${compose('logs', '--no-color', '--tail', '40')}`);
    });
  }, 900_000);

  afterAll(() => {
    try {
      if (prepared) {
        compose('down', '--volumes', '--remove-orphans', '--timeout', '30');
        // Nothing of the run is left: no container, network or volume of the project.
        const label = `label=com.docker.compose.project=${PROJECT}`;
        const left = ['ps -aq', 'network ls -q', 'volume ls -q'].map((c) =>
          sh('docker', [...c.split(' '), '--filter', label]).trim(),
        );
        expect(left).toEqual(['', '', '']);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('ran the one-shot steps to success first (Vault loaded, database and Redis users, migrations)', () => {
    for (const step of ['vault-init', 'migrate']) {
      expect({ step, exit: inspect(step).State.ExitCode }).toEqual({ step, exit: 0 });
    }
  });

  it('creates operators and keys through the gateway, places an order and sees it filled', async () => {
    const bootstrap = exec('gateway', 'node', '/app/docker/entrypoint.mjs', 'cli', 'bootstrap');
    expect(bootstrap.status).toBe(0);
    // The console prints the new key once (in its JSON answer), among its log lines.
    const adminKey = /"key":\s*"([^"]+)"/.exec(bootstrap.stdout)?.[1];
    expect(adminKey).toBeTruthy();
    const trader = await issueOperatorKey(baseUrl, adminKey ?? '', 'Dana Trader', ['trader']);
    const me = await deskRequest(baseUrl, trader.key, 'GET', '/v1/me');
    expect(me.status).toBe(200);

    const submitted = await waitFor(
      async () => {
        const r = await deskRequest(baseUrl, trader.key, 'POST', '/v1/orders', {
          symbol: 'BTC/USDT',
          side: 'buy',
          type: 'market',
          quantity: '0.01',
        });
        return r.status === 202 ? r : undefined;
      },
      { timeoutMs: 30_000, what: 'the order accepted' },
    );
    const id: string = submitted.body.id;
    const filled = await waitFor(
      async () => {
        const r = await deskRequest(baseUrl, trader.key, 'GET', `/v1/orders/${id}`);
        return r.body?.status === 'FILLED' ? r.body : undefined;
      },
      { timeoutMs: 90_000, what: `order ${id} filled` },
    );
    expect(filled.fills.length).toBeGreaterThan(0);
  });

  it('backs up the running desk from the postgres service (scripts/pg-backup.sh, BACKUP_COMPOSE=1)', () => {
    const file = join(dir, 'desk.dump');
    const r = spawnSync('sh', [join(REPO_ROOT, 'scripts/pg-backup.sh'), 'backup', file], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: {
        ...childEnv,
        ...stackEnv,
        BACKUP_COMPOSE: '1',
        COMPOSE_PROJECT_NAME: PROJECT,
        COMPOSE_FILE: [files[1], files[3]].join(':'),
      },
    });
    expect({ code: r.status, stderr: r.stderr }).toEqual({
      code: 0,
      stderr: expect.stringContaining('backup written'),
    });
    // A custom-format dump holding the audit chain (events, signed checkpoints, head).
    const list = sh('pg_restore', ['--list', file]);
    for (const entry of [
      'TABLE DATA audit audit_events',
      'TABLE DATA audit checkpoints',
      'TABLE DATA audit chain_head',
    ]) {
      expect(list).toContain(entry);
    }
  });

  it("reads every service's /metrics through Prometheus", async () => {
    const up = await waitFor(
      async () => {
        const r = exec(
          'gateway',
          'node',
          '-e',
          "fetch('http://prometheus:9090/api/v1/query?query=up').then((r) => r.text()).then((t) => process.stdout.write(t))",
        );
        if (r.status !== 0) return undefined;
        const result = (
          JSON.parse(r.stdout) as { data: { result: { metric: { job: string }; value: [number, string] }[] } }
        ).data.result;
        const jobs = result
          .filter((s) => s.value[1] === '1')
          .map((s) => s.metric.job)
          .sort();
        return jobs.length === APPS.length ? jobs : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 3000, what: 'Prometheus scraping all five services' },
    );
    expect(up).toEqual([...APPS].sort());
  });

  it.each(APPS)('%s runs as a non-root user on a read-only root filesystem with no capabilities', (app) => {
    const c = inspect(app);
    expect(c.Config.User).toBe('1000:1000');
    expect(c.HostConfig.ReadonlyRootfs).toBe(true);
    expect(c.HostConfig.CapDrop).toEqual(['ALL']);
    expect(c.HostConfig.CapAdd ?? []).toEqual([]);
    expect(c.HostConfig.SecurityOpt).toContain('no-new-privileges:true');
    expect(c.HostConfig.Privileged).toBe(false);
    expect(exec(app, 'id', '-u').stdout.trim()).toBe('1000');
    const write = exec(app, 'sh', '-c', 'touch /app/written-at-run-time');
    expect(write.status).not.toBe(0);
    expect(write.stderr).toMatch(/Read-only file system/);
    // The service's own process: no effective, permitted or bounding capability; tini is PID 1.
    const status = exec(
      app,
      'sh',
      '-c',
      'grep -E "^Cap(Eff|Prm|Bnd)" /proc/1/status; cat /proc/1/comm',
    ).stdout;
    expect(status).toMatch(/CapEff:\s+0{16}/);
    expect(status).toMatch(/CapPrm:\s+0{16}/);
    expect(status).toMatch(/CapBnd:\s+0{16}/);
    expect(status.trim().split('\n').pop()).toBe('tini');
  });

  it('PostgreSQL and Redis are unreachable from the host: nothing published; the host ports are not theirs', async () => {
    for (const service of ['postgres', 'redis']) {
      const ports = (inspect(service).NetworkSettings.Ports ?? {}) as Record<string, unknown[] | null>;
      const published = Object.values(ports).filter((bindings) => bindings && bindings.length > 0);
      expect({ service, published }).toEqual({ service, published: [] });
    }
    // 127.0.0.1:6379 and :5432 are the host's own servers, untouched: the desk's Redis user (accepted inside
    // the stack: the gateway is ready on it) is unknown there, and PostgreSQL there is not the container's.
    const redis = new Redis({
      host: '127.0.0.1',
      port: 6379,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    redis.on('error', () => undefined);
    const answer = await redis
      .connect()
      .then(() => redis.call('AUTH', 'desk-gateway', stackEnv.GATEWAY_REDIS_PASSWORD))
      .then(
        () => 'accepted',
        (error: Error) => error.message,
      );
    expect(answer).toMatch(/WRONGPASS|ECONNREFUSED/);
    redis.disconnect();
    const pg = new Client({
      connectionString: 'postgres://postgres@127.0.0.1:5432/postgres',
      connectionTimeoutMillis: 3000,
    });
    const dataDirectory = await pg
      .connect()
      .then(() => pg.query<{ data_directory: string }>('SHOW data_directory'))
      .then((r) => r.rows[0].data_directory)
      .catch(() => 'unreachable')
      .finally(() => void pg.end().catch(() => undefined));
    expect(dataDirectory).not.toBe('/var/lib/postgresql/data');
    // The gateway is reachable, on loopback only.
    const gateway = inspect('gateway').NetworkSettings.Ports['3000/tcp'] as { HostIp: string }[];
    expect(gateway.map((b) => b.HostIp)).toEqual(['127.0.0.1']);
  });
  it('Redis keeps the per-service users across its restart, and its default user keeps its password', async () => {
    sh('docker', ['restart', containerOf('redis')]);
    await waitFor(async () => (inspect('redis').State.Health?.Status === 'healthy' ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 1000,
      what: 'redis healthy again',
    });
    const asUser = exec(
      'redis',
      'redis-cli',
      '--no-auth-warning',
      '--user',
      'desk-gateway',
      '--pass',
      stackEnv.GATEWAY_REDIS_PASSWORD,
      'PING',
    );
    expect(asUser.stdout.trim()).toBe('PONG');
    const anonymous = exec('redis', 'redis-cli', 'PING');
    expect(anonymous.stdout).toMatch(/NOAUTH/);
  });
});
