// `npm start`: brings the whole platform up on this machine.
// install → build → secrets (audit signing key, database passwords) → PostgreSQL and Redis, database roles →
// migrate (as the owner role) → first admin key → five services, each with only its own environment → wait
// until ready.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ensureLocalInfra, ensureLocalRedisUsers } from './lib/local-infra.mjs';
import { ensureLocalSecrets, localEnv, migrateEnv, platform } from './lib/local-secrets.mjs';
import { supervise } from './lib/supervisor.mjs';
import {
  APPS,
  ROOT,
  appEntry,
  build,
  ensureInstalled,
  fail,
  log,
  migrateAll,
  run,
} from './lib/workspace.mjs';

const COLORS = { audit: 35, risk: 33, execution: 32, 'agent-analysis': 34, gateway: 36 };
const PORT_VARS = {
  audit: 'AUDIT_PORT',
  risk: 'RISK_PORT',
  execution: 'EXECUTION_PORT',
  'agent-analysis': 'AGENT_ANALYSIS_PORT',
  gateway: 'GATEWAY_PORT',
};
const DEFAULT_PORTS = { gateway: 3000, 'agent-analysis': 3001, risk: 3002, execution: 3003, audit: 3004 };
/** Each service's internal Prometheus metrics port (`<SERVICE>_METRICS_PORT`; docs/operations.md). */
const METRICS_PORT_VARS = {
  audit: 'AUDIT_METRICS_PORT',
  risk: 'RISK_METRICS_PORT',
  execution: 'EXECUTION_METRICS_PORT',
  'agent-analysis': 'AGENT_ANALYSIS_METRICS_PORT',
  gateway: 'GATEWAY_METRICS_PORT',
};
const DEFAULT_METRICS_PORTS = {
  gateway: 9300,
  'agent-analysis': 9301,
  risk: 9302,
  execution: 9303,
  audit: 9304,
};

ensureInstalled();
build();
ensureLocalSecrets();
const { env, ownerUrl, adminUrl } = localEnv();
const { envFor } = platform();
await ensureLocalInfra(adminUrl, env);
await ensureLocalRedisUsers(env);
log('migrating the database (as the owner role)');
migrateAll(migrateEnv(env, ownerUrl));
bootstrapAdmin(env);
startServices(env);

/**
 * On a fresh install, the first admin key goes to the git-ignored file .admin-key (mode 600), never to the
 * screen or a log. Nothing happens once an active admin key exists.
 */
function bootstrapAdmin(baseEnv) {
  run(process.execPath, [appEntry('gateway', 'cli.js'), 'bootstrap', '--write', join(ROOT, '.admin-key')], {
    env: envFor('gateway', baseEnv),
    exactEnv: true,
  });
}

function startServices(baseEnv) {
  // Supervised (scripts/lib/supervisor.mjs): a service that dies is restarted with a backoff while the
  // others keep running; one that keeps dying stops everything with a message saying so.
  const { stop, isStopping } = supervise({
    services: APPS,
    log,
    exit: (code) => {
      log(code ? 'all services stopped (see above why)' : 'all services stopped');
      process.exit(code);
    },
    spawnService: (app) => {
      // Each service gets only its own variables and secrets (envFor): the audit signing key reaches audit
      // alone, each database password its own service.
      const child = spawn(process.execPath, ['--enable-source-maps', appEntry(app, 'main.js')], {
        cwd: ROOT,
        env: envFor(app, baseEnv),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const prefix = `\x1b[${COLORS[app]}m[${app}]\x1b[0m `;
      for (const stream of [child.stdout, child.stderr]) {
        let rest = '';
        stream.on('data', (chunk) => {
          const lines = (rest + chunk.toString()).split('\n');
          rest = lines.pop() ?? '';
          for (const line of lines) process.stdout.write(prefix + line + '\n');
        });
      }
      return child;
    },
  });
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));

  void waitReady(baseEnv).then((ok) => {
    if (isStopping()) return;
    if (!ok) {
      log('the services did not become ready within 60 s');
      stop(1);
      return;
    }
    const host = baseEnv.GATEWAY_HOST ?? '127.0.0.1';
    const base = `http://${host.includes(':') ? `[${host}]` : host}:${baseEnv.GATEWAY_PORT ?? DEFAULT_PORTS.gateway}`;
    log('all five services are ready (paper trading).');
    log(`API:      ${base}/v1   (Authorization: Bearer <key>; the first admin key is in .admin-key)`);
    log(`API docs: ${base}/docs`);
    const metrics = APPS.map(
      (app) => `${app} :${baseEnv[METRICS_PORT_VARS[app]] ?? DEFAULT_METRICS_PORTS[app]}`,
    );
    log(`Metrics:  GET /metrics on each service's internal port (${metrics.join(', ')}); docs/operations.md`);
    log(
      'A new desk starts in setup (GET /v1/setup): register the first operators and approvers (each ' +
        'generates their own key: npm run cli -- key generate), then POST /v1/setup/close. docs/runbook.md',
    );
    log('A service that dies is restarted (the others keep running). Ctrl-C stops everything.');
  });
}

async function waitReady(baseEnv) {
  const deadline = Date.now() + 60_000;
  const pending = new Set(APPS);
  while (pending.size && Date.now() < deadline) {
    for (const app of [...pending]) {
      const host =
        app === 'gateway' ? (baseEnv.GATEWAY_HOST ?? '127.0.0.1') : (baseEnv.SERVICE_HOST ?? '127.0.0.1');
      const port = baseEnv[PORT_VARS[app]] ?? DEFAULT_PORTS[app];
      const probeHost =
        host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
      try {
        const res = await fetch(`http://${probeHost}:${port}/health/ready`, {
          signal: AbortSignal.timeout(1000),
        });
        if (res.ok) pending.delete(app);
      } catch {
        /* not up yet */
      }
    }
    if (pending.size) await new Promise((r) => setTimeout(r, 500));
  }
  return pending.size === 0;
}

process.on('unhandledRejection', (error) => fail(String(error)));
