import pino from 'pino';
import { setSecretsSource } from '../metrics/metrics';
import { z } from 'zod';
import { ConfigError, loadConfig, vaultEnvShape } from '../config/load-config';
import { passwordVar } from '../config/service-env';
import type { DeskService } from '../persistence/database-roles';
import { maskSecret, rememberSecret, scrubDeep } from './mask';
import {
  DEFAULT_CREDENTIALS,
  exchangeVar,
  exchangeVenues,
  secretsOf,
  vaultAuthVars,
  type SecretSpec,
} from './secret-catalog';
import { VaultClient, VaultError, type VaultAuth, type VaultLog } from './vault-client';

/**
 * Which source a service's secrets came from: Vault, the environment because Vault is not configured, or
 * the environment because Vault was configured but could not be read at boot (paper mode only, or with
 * SECRETS_ALLOW_LIVE_FALLBACK). Shown in /health/ready and readable for a metric.
 */
export type SecretsSource = 'vault' | 'environment' | 'environment-fallback';

/** The readiness detail of the secrets: never a value. */
export interface SecretsStatus {
  source: SecretsSource;
  /** Why the environment is used although Vault is configured. */
  fallbackReason?: string;
  /** Secrets that have a value, by variable name (values never). */
  loaded: string[];
}

/** A service's secrets: where they came from, and their current value (re-read from Vault after the cache TTL). */
export class Secrets {
  constructor(
    readonly service: DeskService,
    private readonly specs: readonly SecretSpec[],
    private readonly sourceUsed: SecretsSource,
    private readonly initial: Readonly<Record<string, string>>,
    private readonly vault?: VaultClient,
    private readonly fallbackReason?: string,
  ) {
    for (const value of Object.values(initial)) rememberSecret(value);
  }

  /** Environment-only secrets (tests and tools that build a service without resolving). */
  static fromEnvironment(service: DeskService, env: Record<string, string | undefined>): Secrets {
    const specs = secretsOf(service, env);
    return new Secrets(service, specs, 'environment', valuesFromEnv(specs, env));
  }

  source(): SecretsSource {
    return this.sourceUsed;
  }

  status(): SecretsStatus {
    return {
      source: this.sourceUsed,
      ...(this.fallbackReason ? { fallbackReason: this.fallbackReason } : {}),
      loaded: Object.keys(this.initial).sort(),
    };
  }

  /** Whether Vault (not the environment) gave this secret at boot. */
  fromVault(name: string): boolean {
    return this.sourceUsed === 'vault' && name in this.initial;
  }

  /**
   * The service's database password as pg takes it (a function, asked on each new connection, so that a
   * rotation in Vault is picked up), when it comes from Vault; undefined: the connection URL's own.
   */
  databasePassword(): (() => Promise<string>) | undefined {
    const name = passwordVar(this.service);
    if (!this.fromVault(name)) return undefined;
    return async () => (await this.current(name)) ?? '';
  }

  /**
   * The secret's value now: from Vault (cached for VAULT_CACHE_TTL_MS, so a rotation is seen within it;
   * the last good value while Vault is briefly down), else the value the service started with.
   */
  async current(name: string): Promise<string | undefined> {
    const spec = this.specs.find((s) => s.name === name);
    if (!spec || !this.vault || this.sourceUsed !== 'vault') return this.initial[name];
    try {
      const value = (await this.vault.read(spec.path)).data[spec.key];
      rememberSecret(value);
      return value ?? this.initial[name];
    } catch {
      return this.initial[name];
    }
  }

  close(): void {
    this.vault?.close();
  }
}

function valuesFromEnv(
  specs: readonly SecretSpec[],
  env: Record<string, string | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const value = env[spec.name];
    if (value) out[spec.name] = value;
  }
  return out;
}

/** Live trading: real money moves. Only execution trades, and only with EXECUTION_MODE=live. */
export function isLiveTrading(service: DeskService, env: Record<string, string | undefined>): boolean {
  return service === 'execution' && env.EXECUTION_MODE === 'live';
}

/** Problems that forbid live trading with these credentials (missing or placeholder exchange keys). */
function liveCredentialProblems(
  env: Record<string, string | undefined>,
  values: Record<string, string>,
): string[] {
  const venues = exchangeVenues(env);
  if (venues.length === 0)
    return ['EXCHANGE_VENUES: live trading needs at least one venue with its API key and secret'];
  const problems: string[] = [];
  for (const venue of venues) {
    for (const part of ['API_KEY', 'API_SECRET'] as const) {
      const name = exchangeVar(venue, part);
      const value = values[name];
      if (!value) problems.push(`${name}: missing; live trading needs it`);
      else if (DEFAULT_CREDENTIALS.has(value.toLowerCase()) || value.length < 8) {
        problems.push(`${name}: is a placeholder or default value; live trading needs the real credential`);
      }
    }
  }
  return problems;
}

const vaultSettingsSchema = z.object(vaultEnvShape);

export interface ResolveOptions {
  /** Where resolution is reported (boot, before the service's own logger exists). Default: JSON on stderr. */
  log?: VaultLog;
}

function bootLog(service: DeskService, level: string | undefined): VaultLog {
  const logger = pino(
    { level: level ?? 'info', base: { service, context: 'secrets' } },
    pino.destination({ dest: 2, sync: true }),
  );
  return {
    info: (msg, detail) => logger.info(scrubDeep(detail ?? {}) as object, msg),
    warn: (msg, detail) => logger.warn(scrubDeep(detail ?? {}) as object, msg),
  };
}

/**
 * Step one of a service's boot: fetch its secrets and merge them into the environment its config is then
 * validated from. Vault not configured: the environment as it is. Vault configured: every secret read from
 * it (a path absent there falls back to the variable, if set); Vault down: the environment with a warning,
 * and with live trading a refusal unless SECRETS_ALLOW_LIVE_FALLBACK=true. Live trading refuses missing
 * or placeholder exchange credentials whatever the source.
 */
export async function resolveSecrets(
  service: DeskService,
  env: Record<string, string | undefined>,
  options: ResolveOptions = {},
): Promise<{ env: Record<string, string | undefined>; secrets: Secrets }> {
  const settings = loadConfig(service, vaultSettingsSchema, env);
  const log = options.log ?? bootLog(service, env.LOG_LEVEL);
  const specs = secretsOf(service, env);
  const live = isLiveTrading(service, env);

  let source: SecretsSource = 'environment';
  let values = valuesFromEnv(specs, env);
  let client: VaultClient | undefined;
  let fallbackReason: string | undefined;

  if (settings.VAULT_ADDR) {
    const auth = vaultAuthOf(service, env, settings.VAULT_APPROLE_MOUNT);
    client = new VaultClient({
      address: settings.VAULT_ADDR,
      auth,
      kvMount: settings.VAULT_KV_MOUNT,
      kvPrefix: settings.VAULT_KV_PREFIX,
      timeoutMs: settings.VAULT_TIMEOUT_MS,
      cacheTtlMs: settings.VAULT_CACHE_TTL_MS,
      log,
    });
    try {
      await client.connect();
      values = { ...values, ...(await readAll(client, specs)) };
      source = 'vault';
    } catch (error) {
      client.close();
      client = undefined;
      fallbackReason = error instanceof Error ? error.message : 'vault unreachable';
      if (live && !settings.SECRETS_ALLOW_LIVE_FALLBACK) {
        throw new ConfigError(service, [
          `VAULT_ADDR: Vault could not be read (${fallbackReason}); live trading (EXECUTION_MODE=live) refuses to start on environment secrets. Fix Vault, or set SECRETS_ALLOW_LIVE_FALLBACK=true to accept them explicitly`,
        ]);
      }
      source = 'environment-fallback';
      log.warn('VAULT UNREACHABLE: secrets come from the environment (fallback)', {
        reason: fallbackReason,
        live,
      });
    }
  }

  if (live) {
    const problems = liveCredentialProblems(env, values);
    if (problems.length) throw new ConfigError(service, problems);
    if (source !== 'vault') {
      if (!settings.SECRETS_ALLOW_LIVE_FALLBACK) {
        throw new ConfigError(service, [
          "VAULT_ADDR: live trading (EXECUTION_MODE=live) takes its secrets from Vault; set VAULT_ADDR and the service's Vault credentials, or SECRETS_ALLOW_LIVE_FALLBACK=true to trade live on environment secrets",
        ]);
      }
      log.warn('LIVE TRADING ON ENVIRONMENT SECRETS (SECRETS_ALLOW_LIVE_FALLBACK=true)', { source });
    }
  }

  const secrets = new Secrets(service, specs, source, values, client, fallbackReason);
  setSecretsSource(source);
  log.info('secrets resolved', {
    source,
    loaded: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, maskSecret(v)])),
  });
  return { env: mergeInto(env, values, source), secrets };
}

/** The service's Vault credentials; a Vault address without them is a configuration error. */
function vaultAuthOf(
  service: DeskService,
  env: Record<string, string | undefined>,
  approleMount: string,
): VaultAuth {
  const vars = vaultAuthVars(service);
  const token = env[vars.token];
  const roleId = env[vars.roleId];
  const secretId = env[vars.secretId];
  if (roleId && secretId) {
    return { kind: 'approle', roleId, secretId, mount: approleMount };
  }
  if (token) return { kind: 'token', token };
  throw new ConfigError(service, [
    `VAULT_ADDR: is set, but neither ${vars.roleId} and ${vars.secretId} (AppRole) nor ${vars.token} is`,
  ]);
}

async function readAll(client: VaultClient, specs: readonly SecretSpec[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const path of new Set(specs.map((s) => s.path))) {
    let data: Record<string, string>;
    try {
      data = (await client.read(path)).data;
    } catch (error) {
      // Not stored in Vault: the secret is not used (or comes from the environment). Anything else is an outage.
      if (error instanceof VaultError && error.status === 404) continue;
      throw error;
    }
    for (const spec of specs.filter((s) => s.path === path)) {
      const value = data[spec.key];
      if (value) out[spec.name] = value;
    }
  }
  return out;
}

/** The environment the config is validated from: secrets put where the service reads them. */
function mergeInto(
  env: Record<string, string | undefined>,
  values: Record<string, string>,
  source: SecretsSource,
): Record<string, string | undefined> {
  const out = { ...env };
  if (source !== 'vault') return out;
  for (const [name, value] of Object.entries(values)) {
    if (name.endsWith('_REDIS_PASSWORD')) {
      if (out.REDIS_URL) {
        const url = new URL(out.REDIS_URL);
        url.password = encodeURIComponent(value);
        out.REDIS_URL = url.toString();
      }
    } else if (!name.endsWith('_DATABASE_PASSWORD')) {
      // The database password goes to the pool as a function (PlatformModule), so a rotation is picked up.
      out[name] = value;
    }
  }
  return out;
}
