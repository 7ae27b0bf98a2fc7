import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { envFor } from '@desk/platform';
import { freePort } from './faults';
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
  /** Every gateway instance's base URL (the first is baseUrl). */
  gatewayUrls: string[];
  /** Each service's internal metrics port (GET /metrics, Prometheus text format). */
  metricsPorts: Record<AppName, number>;
  /** The first admin key, from the console bootstrap (as `npm start` does it). */
  adminKey: string;
  ports: Record<AppName, number>;
  /** Everything each service printed, for failure messages. */
  output: Record<AppName, string[]>;
  /** Each running service's process id (benchmarks read their CPU time from /proc). */
  pids(): Record<AppName, number | undefined>;
  /**
   * Sends a signal to one service (SIGKILL: a crash) and resolves when its process has exited. `instance`:
   * which of the service's instances (default the first).
   */
  kill(app: AppName, signal?: NodeJS.Signals, instance?: number): Promise<void>;
  /** Starts a service again (after kill), as npm start's supervisor does, and waits until it is ready. */
  restart(app: AppName, instance?: number): Promise<void>;
  stop(): Promise<void>;
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
  /** Instances of every service, side by side on the same database and Redis (default 1). */
  instances?: number;
}): Promise<RunningPlatform> {
  const signing = generateKeyPairSync('ed25519');
  const count = options.instances ?? 1;
  const ports = {} as Record<AppName, number>;
  const metricsPorts = {} as Record<AppName, number>;
  /** Each instance's own HTTP and metrics ports; instance 0 uses `ports` and `metricsPorts`. */
  const instancePorts = new Map<string, { http: number; metrics: number }>();
  for (const app of APPS) {
    for (let i = 0; i < count; i++)
      instancePorts.set(`${app}#${i}`, { http: await freePort(), metrics: await freePort() });
    ports[app] = instancePorts.get(`${app}#0`)!.http;
    metricsPorts[app] = instancePorts.get(`${app}#0`)!.metrics;
  }
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
  const children = new Map<string, ChildProcess>();
  const output = Object.fromEntries(APPS.map((a) => [a, [] as string[]])) as Record<AppName, string[]>;
  const stderr = Object.fromEntries(APPS.map((a) => [a, ''])) as Record<AppName, string>;
  const spawnApp = (app: AppName, instance = 0) => {
    const own = instancePorts.get(`${app}#${instance}`)!;
    const child = spawn(
      process.execPath,
      [...(options.nodeArgs ?? []), '--enable-source-maps', join(REPO_ROOT, 'apps', app, 'dist', 'main.js')],
      {
        env: processEnv(app, {
          ...env,
          [PORT_VARS[app]]: String(own.http),
          [METRICS_PORT_VARS[app]]: String(own.metrics),
        }),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const keep = (chunk: Buffer) => {
      output[app].push(chunk.toString());
      if (output[app].length > 4000) output[app].shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', (chunk: Buffer) => {
      keep(chunk);
      // A fatal boot error is one stderr line; kept apart so a long log tail never hides it.
      stderr[app] = (stderr[app] + chunk.toString()).slice(-4000);
    });
    children.set(`${app}#${instance}`, child);
  };
  const instances = Array.from({ length: count }, (_, i) => i);
  for (const app of APPS) for (const i of instances) spawnApp(app, i);

  const ready = (app: AppName, instance = 0) =>
    waitFor(
      async () => {
        const child = children.get(`${app}#${instance}`);
        if (child && child.exitCode !== null) {
          throw new Error(
            `${app} exited with ${child.exitCode}; stderr: ${stderr[app].slice(-1500) || '(none)'}; ` +
              `output: ${output[app].join('').slice(-1500)}`,
          );
        }
        const port = instancePorts.get(`${app}#${instance}`)!.http;
        const res = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined);
        return res?.ok ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: `${app} (instance ${instance}) to be ready` },
    );

  const kill = (app: AppName, signal: NodeJS.Signals = 'SIGKILL', instance = 0) =>
    new Promise<void>((resolve) => {
      const child = children.get(`${app}#${instance}`);
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
    });

  const restart = async (app: AppName, instance = 0) => {
    await kill(app, 'SIGKILL', instance);
    spawnApp(app, instance);
    await ready(app, instance);
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
    for (const app of APPS) for (const i of instances) await ready(app, i);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    baseUrl: `http://127.0.0.1:${ports.gateway}`,
    gatewayUrls: instances.map((i) => `http://127.0.0.1:${instancePorts.get(`gateway#${i}`)!.http}`),
    adminKey: issued.key,
    ports,
    metricsPorts,
    output,
    pids: () =>
      Object.fromEntries(APPS.map((app) => [app, children.get(`${app}#0`)?.pid])) as Record<
        AppName,
        number | undefined
      >,
    kill,
    restart,
    stop,
  };
}

/**
 * Throttles and order limits opened wide, agents not trading: the environment in which benchmarks and
 * load tests measure the path itself rather than the desk's refusals.
 */
export const OPENED_WIDE: Readonly<Record<string, string>> = {
  THROTTLE_LIMIT: '1000000',
  THROTTLE_IP_LIMIT: '1000000',
  THROTTLE_ORDER_LIMIT: '1000000',
  RISK_MAX_SUBMIT_RATE_PER_SYMBOL: '1000000',
  RISK_MAX_SUBMIT_RATE_TOTAL: '1000000',
  RISK_MAX_ORDERS_PER_DAY: '1000000',
  RISK_MAX_OPEN_ORDERS: '1000000',
  RISK_MAX_POSITION_SHARE: '100',
  RISK_MAX_GROSS_EXPOSURE: '1000000000',
  AGENT_TRADING_ENABLED: 'false',
};
