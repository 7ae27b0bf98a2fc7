import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Client, type Pool } from 'pg';
import { DataSource } from 'typeorm';
import { freePort, startFakeVault, startPrivatePostgres, waitFor, type FakeVault } from '@desk/testing';
import {
  AdvisoryLockLeadership,
  ConfigError,
  VaultClient,
  dataSourceOptions,
  resolveSecrets,
  type Secrets,
  type VaultLog,
} from '@desk/platform';

/** Collects what the provider reports, to assert on warnings (and that no value is in them). */
function recorder(): VaultLog & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (msg, detail) => lines.push(`info ${msg} ${JSON.stringify(detail ?? {})}`),
    warn: (msg, detail) => lines.push(`warn ${msg} ${JSON.stringify(detail ?? {})}`),
  };
}

describe('secrets from Vault, against a local Vault stand-in (no Vault server can be installed here)', () => {
  let vault: FakeVault;
  const open: (Secrets | VaultClient)[] = [];

  beforeAll(async () => {
    vault = await startFakeVault();
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
    vault.failRenewals(false);
    vault.delay(0);
    vault.unavailable(false);
  });
  afterAll(async () => {
    await vault.close();
  });

  const client = (auth: ConstructorParameters<typeof VaultClient>[0]['auth'], cacheTtlMs = 60_000) => {
    const c = new VaultClient({
      address: vault.address,
      auth,
      kvMount: 'secret',
      kvPrefix: 'desk',
      timeoutMs: 2000,
      cacheTtlMs,
    });
    open.push(c);
    return c;
  };

  it('local Vault stand-in: token auth reads a KV v2 secret (data.data and its version)', async () => {
    vault.put('desk/audit/signing', { private_key: 'first-signing-key-value' });
    const version = vault.put('desk/audit/signing', { private_key: 'second-signing-key-value' });
    const token = vault.issueToken({ paths: ['desk/audit/', 'desk/shared/'] });
    const c = client({ kind: 'token', token });
    await c.connect();
    expect(await c.read('audit/signing')).toEqual({
      data: { private_key: 'second-signing-key-value' },
      version,
    });
    expect(version).toBe(2);
    expect(vault.count('/v1/auth/token/lookup-self')).toBeGreaterThan(0);
    // The token's policy stands in for infra/vault/policies/audit.hcl: another service's path is refused.
    vault.put('desk/gateway/webhook', { secret: 'not-for-audit-xxxxxxxx' });
    await expect(c.read('gateway/webhook')).rejects.toMatchObject({ status: 403 });
  });

  it('local Vault stand-in: AppRole login gets a token, and the secrets reach the environment the config is read from', async () => {
    vault.addRole({
      roleId: 'role-audit',
      secretId: 'sid-audit',
      paths: ['desk/audit/', 'desk/shared/'],
      ttlSeconds: 60,
      maxTtlSeconds: 600,
    });
    vault.put('desk/audit/signing', { private_key: 'approle-signing-key' });
    vault.put('desk/shared/sentry', { dsn: 'https://public@sentry.example/1' });
    const logins = vault.count('/v1/auth/approle/login');
    const { env, secrets } = await resolveSecrets(
      'audit',
      { VAULT_ADDR: vault.address, AUDIT_VAULT_ROLE_ID: 'role-audit', AUDIT_VAULT_SECRET_ID: 'sid-audit' },
      { log: recorder() },
    );
    open.push(secrets);
    expect(vault.count('/v1/auth/approle/login')).toBe(logins + 1);
    expect(secrets.source()).toBe('vault');
    expect(env.AUDIT_SIGNING_KEY).toBe('approle-signing-key');
    expect(env.SENTRY_DSN).toBe('https://public@sentry.example/1');
    expect(secrets.status()).toEqual({ source: 'vault', loaded: ['AUDIT_SIGNING_KEY', 'SENTRY_DSN'] });
  });

  it('local Vault stand-in: renews the token before it expires, and reads keep working past the first TTL', async () => {
    vault.addRole({
      roleId: 'r-renew',
      secretId: 's-renew',
      paths: ['desk/'],
      ttlSeconds: 1,
      maxTtlSeconds: 60,
    });
    vault.put('desk/risk/database', { password: 'risk-db-password' });
    const c = client({ kind: 'approle', roleId: 'r-renew', secretId: 's-renew', mount: 'approle' }, 0);
    await c.connect();
    await waitFor(async () => (c.renewals >= 2 ? true : undefined), { timeoutMs: 5000 });
    expect(c.logins).toBe(1);
    expect((await c.read('risk/database')).data.password).toBe('risk-db-password');
  });

  it('local Vault stand-in: a token given as such is renewed too, and its end (max TTL) is reported', async () => {
    const token = vault.issueToken({ paths: ['desk/'], ttlSeconds: 1, maxTtlSeconds: 2 });
    const log = recorder();
    const c = new VaultClient({
      address: vault.address,
      auth: { kind: 'token', token },
      kvMount: 'secret',
      kvPrefix: 'desk',
      timeoutMs: 2000,
      cacheTtlMs: 0,
      log,
    });
    open.push(c);
    await c.connect();
    await waitFor(async () => (c.renewals >= 1 ? true : undefined), { timeoutMs: 3000 });
    await waitFor(
      async () => (log.lines.some((l) => l.includes('a token cannot log in again')) ? true : undefined),
      { timeoutMs: 5000 },
    );
    expect(log.lines.join('\n')).not.toContain(token);
  });

  it('local Vault stand-in: logs in again when the token reaches its maximum TTL', async () => {
    vault.addRole({ roleId: 'r-max', secretId: 's-max', paths: ['desk/'], ttlSeconds: 1, maxTtlSeconds: 2 });
    vault.put('desk/risk/database', { password: 'risk-db-password' });
    const c = client({ kind: 'approle', roleId: 'r-max', secretId: 's-max', mount: 'approle' }, 0);
    await c.connect();
    await waitFor(async () => (c.logins >= 2 ? true : undefined), { timeoutMs: 6000 });
    expect((await c.read('risk/database')).data.password).toBe('risk-db-password');
  });

  it('local Vault stand-in: logs in again when a renewal fails, and when the token was revoked', async () => {
    vault.addRole({
      roleId: 'r-fail',
      secretId: 's-fail',
      paths: ['desk/'],
      ttlSeconds: 1,
      maxTtlSeconds: 60,
    });
    vault.put('desk/risk/database', { password: 'risk-db-password' });
    vault.failRenewals(true);
    const c = client({ kind: 'approle', roleId: 'r-fail', secretId: 's-fail', mount: 'approle' }, 0);
    await c.connect();
    await waitFor(async () => (c.logins >= 2 ? true : undefined), { timeoutMs: 5000 });
    expect(c.renewals).toBe(0);
    vault.failRenewals(false);

    // The token revoked behind the client's back: the read is refused once, it logs in and reads.
    vault.revokeAll();
    const before = c.logins;
    expect((await c.read('risk/database', { fresh: true })).data.password).toBe('risk-db-password');
    expect(c.logins).toBe(before + 1);
  });

  it('local Vault stand-in: a secret rotated while running is served after the cache TTL (the webhook secret of the next delivery)', async () => {
    const token = vault.issueToken({ paths: ['desk/gateway/', 'desk/shared/'] });
    vault.put('desk/gateway/webhook', { secret: 'w'.repeat(40) });
    const { secrets } = await resolveSecrets(
      'gateway',
      { VAULT_ADDR: vault.address, GATEWAY_VAULT_TOKEN: token, VAULT_CACHE_TTL_MS: '100' },
      { log: recorder() },
    );
    open.push(secrets);
    expect(await secrets.current('APPROVAL_WEBHOOK_SECRET')).toBe('w'.repeat(40));
    vault.put('desk/gateway/webhook', { secret: 'v'.repeat(40) });
    await new Promise((r) => setTimeout(r, 150));
    expect(await secrets.current('APPROVAL_WEBHOOK_SECRET')).toBe('v'.repeat(40));
    // Vault down for a moment: the last good value, not an outage.
    vault.unavailable(true);
    await new Promise((r) => setTimeout(r, 150));
    expect(await secrets.current('APPROVAL_WEBHOOK_SECRET')).toBe('v'.repeat(40));
  });

  it('local Vault stand-in: a database password rotated while running is used by the next new connection, without a restart', async () => {
    // A PostgreSQL that checks passwords (the shared one trusts 127.0.0.1).
    const pg = await startPrivatePostgres();
    const admin = new Client({ connectionString: pg.adminUrl });
    await admin.connect();
    let ds: DataSource | undefined;
    try {
      await admin.query(`CREATE ROLE desk_risk LOGIN PASSWORD 'first-password-0001'`);
      const token = vault.issueToken({ paths: ['desk/risk/', 'desk/shared/'] });
      vault.put('desk/risk/database', { password: 'first-password-0001' });
      const { secrets } = await resolveSecrets(
        'risk',
        { VAULT_ADDR: vault.address, RISK_VAULT_TOKEN: token, VAULT_CACHE_TTL_MS: '100' },
        { log: recorder() },
      );
      open.push(secrets);
      // As PlatformModule gives it: the URL without a password, the password asked on each new connection.
      const password = secrets.databasePassword();
      expect(password).toBeDefined();
      ds = new DataSource(
        dataSourceOptions(
          pg.url('desk_risk', '').replace(':@', '@'),
          { schema: 'public', entities: [], migrations: [] },
          password,
        ),
      );
      await ds.initialize();
      const pool = (ds.driver as unknown as { master: Pool }).master;
      const held = await pool.connect(); // keeps the first connection busy: the next one is new

      await admin.query(`ALTER ROLE desk_risk PASSWORD 'rotated-password-0002'`);
      // Not yet in Vault: a new connection is refused (the server does check the password).
      await expect(pool.connect()).rejects.toMatchObject({ code: '28P01' });

      vault.put('desk/risk/database', { password: 'rotated-password-0002' });
      await new Promise((r) => setTimeout(r, 150)); // the cache TTL
      const fresh = await pool.connect();
      expect((await fresh.query<{ u: string }>('select current_user as u')).rows).toEqual([
        { u: 'desk_risk' },
      ]);
      fresh.release();
      held.release(); // the old connection went on working throughout

      // Risk's leader-lock connection (its own pg Client) takes the same password.
      const noop = () => undefined;
      const lock = new AdvisoryLockLeadership({
        connectionString: pg.url('desk_risk', '').replace(':@', '@'),
        password: secrets.databasePassword(),
        lockName: 'desk.test.vault',
        pollIntervalMs: 200,
        sessionTimeoutMs: 2000,
        onElected: async () => undefined,
        onDeposed: async () => undefined,
        logger: { log: noop, warn: noop, error: noop },
      });
      await lock.start();
      expect(lock.role).toBe('leader');
      await lock.stop();
    } finally {
      await ds?.destroy();
      await admin.end();
      await pg.destroy();
    }
  });

  it('fallback: Vault not configured, secrets come from the environment', async () => {
    const { env, secrets } = await resolveSecrets(
      'gateway',
      { APPROVAL_WEBHOOK_SECRET: 'e'.repeat(40) },
      { log: recorder() },
    );
    expect(secrets.source()).toBe('environment');
    expect(env.APPROVAL_WEBHOOK_SECRET).toBe('e'.repeat(40));
    expect(await secrets.current('APPROVAL_WEBHOOK_SECRET')).toBe('e'.repeat(40));
  });

  it('fallback: Vault configured but unreachable, in paper mode, uses the environment with a warning', async () => {
    const log = recorder();
    const port = await freePort();
    const { env, secrets } = await resolveSecrets(
      'audit',
      {
        VAULT_ADDR: `http://127.0.0.1:${port}`,
        AUDIT_VAULT_TOKEN: 'hvs.token-that-must-not-be-logged',
        AUDIT_SIGNING_KEY: 'env-signing-key',
      },
      { log },
    );
    expect(secrets.source()).toBe('environment-fallback');
    expect(secrets.status()).toMatchObject({
      source: 'environment-fallback',
      fallbackReason: expect.stringContaining('unreachable'),
    });
    expect(env.AUDIT_SIGNING_KEY).toBe('env-signing-key');
    expect(log.lines.some((l) => l.startsWith('warn VAULT UNREACHABLE'))).toBe(true);
    expect(log.lines.join('\n')).not.toContain('token-that-must-not-be-logged');
  });

  it('fallback: a Vault that does not answer in time counts as unreachable (every call has a timeout)', async () => {
    const token = vault.issueToken({ paths: ['desk/'] });
    vault.delay(3000);
    const started = Date.now();
    const { secrets } = await resolveSecrets(
      'risk',
      { VAULT_ADDR: vault.address, RISK_VAULT_TOKEN: token, VAULT_TIMEOUT_MS: '200' },
      { log: recorder() },
    );
    expect(secrets.source()).toBe('environment-fallback');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('fallback: a sealed Vault (503) counts as unreachable', async () => {
    const token = vault.issueToken({ paths: ['desk/'] });
    vault.unavailable(true);
    const { secrets } = await resolveSecrets(
      'risk',
      { VAULT_ADDR: vault.address, RISK_VAULT_TOKEN: token },
      { log: recorder() },
    );
    expect(secrets.status()).toMatchObject({
      source: 'environment-fallback',
      fallbackReason: 'vault answered 503',
    });
  });

  it("a Vault address without the service's credentials is a configuration error, not a fallback", async () => {
    await expect(resolveSecrets('risk', { VAULT_ADDR: vault.address }, { log: recorder() })).rejects.toThrow(
      /RISK_VAULT_ROLE_ID and RISK_VAULT_SECRET_ID \(AppRole\) nor RISK_VAULT_TOKEN/,
    );
  });

  describe('live trading', () => {
    const liveEnv = {
      EXECUTION_MODE: 'live',
      EXCHANGE_VENUES: 'binance',
      EXCHANGE_BINANCE_API_KEY: 'env-binance-key-123456',
      EXCHANGE_BINANCE_API_SECRET: 'env-binance-secret-123456',
    };

    it('local Vault stand-in down: refuses to start on environment secrets unless explicitly overridden', async () => {
      const token = vault.issueToken({ paths: ['desk/execution/', 'desk/shared/'] });
      vault.unavailable(true);
      const env = { ...liveEnv, VAULT_ADDR: vault.address, EXECUTION_VAULT_TOKEN: token };
      const refusal = resolveSecrets('execution', env, { log: recorder() });
      await expect(refusal).rejects.toBeInstanceOf(ConfigError);
      await expect(refusal).rejects.toThrow(
        /live trading .* refuses to start on environment secrets.*SECRETS_ALLOW_LIVE_FALLBACK=true/,
      );

      const log = recorder();
      const { secrets } = await resolveSecrets(
        'execution',
        { ...env, SECRETS_ALLOW_LIVE_FALLBACK: 'true' },
        { log },
      );
      expect(secrets.source()).toBe('environment-fallback');
      expect(log.lines.some((l) => l.startsWith('warn LIVE TRADING ON ENVIRONMENT SECRETS'))).toBe(true);
    });

    it('refuses live trading without Vault at all, unless overridden', async () => {
      await expect(resolveSecrets('execution', liveEnv, { log: recorder() })).rejects.toThrow(
        /live trading \(EXECUTION_MODE=live\) takes its secrets from Vault/,
      );
      const { secrets } = await resolveSecrets(
        'execution',
        { ...liveEnv, SECRETS_ALLOW_LIVE_FALLBACK: 'true' },
        { log: recorder() },
      );
      expect(secrets.source()).toBe('environment');
    });

    it('local Vault stand-in: refuses live trading with missing or placeholder exchange credentials, starts with real ones', async () => {
      const token = vault.issueToken({ paths: ['desk/execution/', 'desk/shared/'] });
      const base = {
        EXECUTION_MODE: 'live',
        EXCHANGE_VENUES: 'binance,kraken',
        VAULT_ADDR: vault.address,
        EXECUTION_VAULT_TOKEN: token,
      };
      vault.put('desk/execution/exchanges/binance', {
        api_key: 'change-me',
        api_secret: 'real-binance-secret-0001',
      });
      await expect(resolveSecrets('execution', base, { log: recorder() })).rejects.toThrow(
        /EXCHANGE_BINANCE_API_KEY: is a placeholder[\s\S]*EXCHANGE_KRAKEN_API_KEY: missing[\s\S]*EXCHANGE_KRAKEN_API_SECRET: missing/,
      );
      vault.put('desk/execution/exchanges/binance', {
        api_key: 'real-binance-key-0001',
        api_secret: 'real-binance-secret-0001',
      });
      vault.put('desk/execution/exchanges/kraken', {
        api_key: 'real-kraken-key-0001',
        api_secret: 'real-kraken-secret-0001',
      });
      const { env, secrets } = await resolveSecrets('execution', base, { log: recorder() });
      open.push(secrets);
      expect(secrets.source()).toBe('vault');
      expect(env.EXCHANGE_KRAKEN_API_SECRET).toBe('real-kraken-secret-0001');
    });
  });
});
