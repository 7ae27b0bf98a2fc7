import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  REPO_ROOT,
  freePort,
  processEnv,
  startFakeVault,
  testEnv,
  uniquePrefix,
  waitFor,
  type AppName,
  type FakeVault,
} from '@desk/testing';

interface Running {
  child: ChildProcess;
  output: string[];
  port: number;
}

/** Starts one built service as `npm start` does (its own environment only, envFor). */
async function startService(app: AppName, portVar: string, extra: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const { databaseUrl, redisUrl } = testEnv();
  const env = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: uniquePrefix('vault'),
    [portVar]: String(port),
    [portVar.replace(/_PORT$/, '_METRICS_PORT')]: String(await freePort()),
    ...extra,
  };
  const output: string[] = [];
  const child = spawn(process.execPath, [join(REPO_ROOT, 'apps', app, 'dist', 'main.js')], {
    env: processEnv(app, env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => output.push(c.toString()));
  child.stderr?.on('data', (c: Buffer) => output.push(c.toString()));
  return { child, output, port };
}

async function readiness(r: Running): Promise<Record<string, { status: string } & Record<string, unknown>>> {
  return waitFor(
    async () => {
      if (r.child.exitCode !== null)
        throw new Error(`exited ${r.child.exitCode}: ${r.output.join('').slice(-2000)}`);
      const res = await fetch(`http://127.0.0.1:${r.port}/health/ready`).catch(() => undefined);
      if (!res?.ok) return undefined;
      return ((await res.json()) as { details: Record<string, { status: string }> }).details;
    },
    { timeoutMs: 60_000, intervalMs: 250, what: 'the service to be ready' },
  );
}

function stop(r: Running | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!r || r.child.exitCode !== null || r.child.signalCode !== null) return resolve();
    r.child.once('exit', () => resolve());
    r.child.kill('SIGTERM');
  });
}

describe('a service booted with its secrets only in a local Vault stand-in (no Vault server can be installed here)', () => {
  let vault: FakeVault;
  let running: Running | undefined;
  const signingKey = generateKeyPairSync('ed25519')
    .privateKey.export({ format: 'der', type: 'pkcs8' })
    .toString('base64');

  beforeAll(async () => {
    vault = await startFakeVault();
    vault.addRole({
      roleId: 'audit-role-id',
      secretId: 'audit-secret-id',
      // infra/vault/policies/audit.hcl: its own folder and the shared one.
      paths: ['desk/audit/', 'desk/shared/'],
      ttlSeconds: 60,
      maxTtlSeconds: 3600,
    });
    vault.put('desk/audit/signing', { private_key: signingKey });
    vault.put('desk/audit/database', { password: 'audit-db-password-from-vault' });
    vault.put('desk/shared/sentry', { dsn: 'https://canarydsnkey0123@sentry.invalid/7' });
  });
  afterEach(async () => {
    await stop(running);
    running = undefined;
    vault.unavailable(false);
  });
  afterAll(async () => {
    await vault.close();
  });

  it('audit starts with its signing key and database password from the local Vault stand-in, and says so in /health/ready', async () => {
    running = await startService('audit', 'AUDIT_PORT', {
      VAULT_ADDR: vault.address,
      AUDIT_VAULT_ROLE_ID: 'audit-role-id',
      AUDIT_VAULT_SECRET_ID: 'audit-secret-id',
    });
    const details = await readiness(running);
    expect(details.secrets).toEqual({
      status: 'up',
      source: 'vault',
      loaded: ['AUDIT_DATABASE_PASSWORD', 'AUDIT_SIGNING_KEY', 'SENTRY_DSN'],
    });
    // Connected with the pool's password function (the URL taken apart), not a URL.
    expect(details.postgres).toEqual({ status: 'up' });
    expect(vault.count('/v1/auth/approle/login')).toBe(1);
    expect(vault.count('/v1/secret/data/desk/audit/signing')).toBeGreaterThan(0);
    const printed = running.output.join('');
    expect(printed).toContain('secrets resolved');
    // The config dump at boot: the signing key masked to its last 4 characters at most.
    const dump = printed.split('\n').find((l) => l.includes('configuration (secrets masked)'));
    expect(JSON.parse(dump)).toMatchObject({
      config: { AUDIT_SIGNING_KEY: `****${signingKey.slice(-4)}`, SENTRY_DSN: '****id/7' },
      secrets: { source: 'vault' },
    });
    for (const secret of [
      signingKey,
      'audit-db-password-from-vault',
      'canarydsnkey0123',
      'audit-secret-id',
    ]) {
      expect(printed).not.toContain(secret);
    }
  });

  it('with the local Vault stand-in down, audit falls back to its environment with a warning and readiness shows it', async () => {
    vault.unavailable(true);
    running = await startService('audit', 'AUDIT_PORT', {
      VAULT_ADDR: vault.address,
      AUDIT_VAULT_ROLE_ID: 'audit-role-id',
      AUDIT_VAULT_SECRET_ID: 'audit-secret-id',
      AUDIT_SIGNING_KEY: signingKey,
    });
    const details = await readiness(running);
    expect(details.secrets).toMatchObject({
      status: 'up',
      source: 'environment-fallback',
      fallbackReason: 'vault answered 503',
    });
    expect(running.output.join('')).toContain('VAULT UNREACHABLE');
  });

  it('execution refuses to start live with the local Vault stand-in down and no override', async () => {
    vault.unavailable(true);
    running = await startService('execution', 'EXECUTION_PORT', {
      VAULT_ADDR: vault.address,
      EXECUTION_VAULT_TOKEN: 'hvs.execution-token',
      EXECUTION_MODE: 'live',
      EXCHANGE_VENUES: 'binance',
      EXCHANGE_BINANCE_API_KEY: 'env-binance-key-0001',
      EXCHANGE_BINANCE_API_SECRET: 'env-binance-secret-0001',
    });
    const code = await new Promise<number | null>((resolve) => running.child.once('exit', resolve));
    expect(code).toBe(1);
    const printed = running.output.join('');
    expect(printed).toContain('refuses to start on environment secrets');
    expect(printed).not.toContain('env-binance-secret-0001');
    expect(printed).not.toContain('hvs.execution-token');
  });
});
