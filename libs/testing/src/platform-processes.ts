import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { envFor } from '@desk/platform';
import { APPS, REPO_ROOT, type AppName } from './infra';
import { waitFor } from './wait-for';

const execFileAsync = promisify(execFile);

const PORT_VARS: Record<AppName, string> = {
  gateway: 'GATEWAY_PORT',
  'agent-analysis': 'AGENT_ANALYSIS_PORT',
  risk: 'RISK_PORT',
  execution: 'EXECUTION_PORT',
  audit: 'AUDIT_PORT',
};

const METRICS_PORT_VARS: Record<AppName, string> = {
  gateway: 'GATEWAY_METRICS_PORT',
  'agent-analysis': 'AGENT_ANALYSIS_METRICS_PORT',
  risk: 'RISK_METRICS_PORT',
  execution: 'EXECUTION_METRICS_PORT',
  audit: 'AUDIT_METRICS_PORT',
};

export interface RunningPlatform {
  baseUrl: string;
  /** Each service's internal metrics port (GET /metrics, Prometheus text format). */
  metricsPorts: Record<AppName, number>;
  /** The first admin key, from the console bootstrap (as `npm start` does it). */
  adminKey: string;
  ports: Record<AppName, number>;
  /** Everything each service printed, for failure messages. */
  output: Record<AppName, string[]>;
  /** Each running service's process id (benchmarks read their CPU time from /proc). */
  pids(): Record<AppName, number | undefined>;
  /** Sends a signal to one service (SIGKILL: a crash) and resolves when its process has exited. */
  kill(app: AppName, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a service again (after kill), as npm start's supervisor does, and waits until it is ready. */
  restart(app: AppName): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * Each process's environment, as `npm start` builds it (envFor): only its own variables and secrets.
 * Refuses to start a service that would receive the audit signing key without being audit.
 */
export function processEnv(app: AppName, env: Record<string, string>): Record<string, string> {
  const own = envFor(app, env);
  if (app !== 'audit' && 'AUDIT_SIGNING_KEY' in own)
    throw new Error(`${app} would receive AUDIT_SIGNING_KEY`);
  return own;
}

/**
 * Starts the five built services as separate processes (dist/main.js), on free loopback ports, against the
 * given database and Redis prefix, and waits until each answers /health/ready. Each service connects as
 * its own database role (docs/adr/0009) and receives only its own environment (processEnv).
 */
export async function startPlatform(options: {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  env?: Record<string, string>;
  /** Extra Node.js flags for every service (a benchmark's `--cpu-prof --cpu-prof-dir=…`). */
  nodeArgs?: string[];
}): Promise<RunningPlatform> {
  const signing = generateKeyPairSync('ed25519');
  const ports = {} as Record<AppName, number>;
  const metricsPorts = {} as Record<AppName, number>;
  for (const app of APPS) ports[app] = await freePort();
  for (const app of APPS) metricsPorts[app] = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn',
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: options.redisPrefix,
    // The audit checkpoint signing key (a secret: from the environment fallback here) and its public half.
    AUDIT_SIGNING_KEY: signing.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
    AUDIT_SIGNING_PUBLIC_KEY: signing.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    ...Object.fromEntries(APPS.map((app) => [PORT_VARS[app], String(ports[app])])),
    ...Object.fromEntries(APPS.map((app) => [METRICS_PORT_VARS[app], String(metricsPorts[app])])),
    ...options.env,
  };
  // Not execFileSync: a server in this process (a local Vault stand-in, a TCP link to
  // PostgreSQL) must go on answering meanwhile.
  const issued = JSON.parse(
    (
      await execFileAsync(
        process.execPath,
        [join(REPO_ROOT, 'apps', 'gateway', 'dist', 'cli.js'), 'bootstrap', '--name', 'e2e-admin'],
        { env: processEnv('gateway', env), encoding: 'utf8' },
      )
    ).stdout,
  ) as { key: string };
  const children = new Map<AppName, ChildProcess>();
  const output = Object.fromEntries(APPS.map((a) => [a, [] as string[]])) as Record<AppName, string[]>;
  const spawnApp = (app: AppName) => {
    const child = spawn(
      process.execPath,
      [...(options.nodeArgs ?? []), '--enable-source-maps', join(REPO_ROOT, 'apps', app, 'dist', 'main.js')],
      {
        env: processEnv(app, env),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const keep = (chunk: Buffer) => {
      output[app].push(chunk.toString());
      if (output[app].length > 4000) output[app].shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    children.set(app, child);
  };
  for (const app of APPS) spawnApp(app);

  const ready = (app: AppName) =>
    waitFor(
      async () => {
        const child = children.get(app);
        if (child && child.exitCode !== null) {
          throw new Error(`${app} exited with ${child.exitCode}: ${output[app].join('').slice(-2000)}`);
        }
        const res = await fetch(`http://127.0.0.1:${ports[app]}/health/ready`).catch(() => undefined);
        return res?.ok ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: `${app} to be ready` },
    );

  const kill = (app: AppName, signal: NodeJS.Signals = 'SIGKILL') =>
    new Promise<void>((resolve) => {
      const child = children.get(app);
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
    });

  const restart = async (app: AppName) => {
    await kill(app);
    spawnApp(app);
    await ready(app);
  };

  const stop = async () => {
    await Promise.all(
      [...children.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
  };

  try {
    for (const app of APPS) await ready(app);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    baseUrl: `http://127.0.0.1:${ports.gateway}`,
    adminKey: issued.key,
    ports,
    metricsPorts,
    output,
    pids: () =>
      Object.fromEntries(APPS.map((app) => [app, children.get(app)?.pid])) as Record<
        AppName,
        number | undefined
      >,
    kill,
    restart,
    stop,
  };
}
