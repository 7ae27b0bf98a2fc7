import { z } from 'zod';
import { MARKET_CATALOG } from '@desk/contracts';

/** Thrown at boot when the environment is invalid; its message lists every problem, one per line. */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: readonly string[],
  ) {
    super(`${service}: invalid configuration\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates the environment once, into one typed object. Values are never echoed back in the error
 * (they may be secrets): only the variable name and what is wrong with it.
 */
export function loadConfig<S extends z.ZodType>(
  service: string,
  schema: S,
  env: Record<string, string | undefined>,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    return `${name}: ${issue.message}`;
  });
  throw new ConfigError(service, problems);
}

/** Common field types for environment schemas. */
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback),
  int: (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z.coerce.number().int().min(min).max(max).default(fallback),
  bool: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  url: (protocols: readonly string[]) =>
    z.string().refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol.replace(':', ''));
        } catch {
          return false;
        }
      },
      `must be a URL with protocol ${protocols.join(' or ')}`,
    ),
  list: (fallback: string) =>
    z
      .string()
      .default(fallback)
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
};

/** What the Sentry SDK accepts as a DSN (its public key: letters, digits and _; a numeric project id). */
const SENTRY_DSN_RE = /^https?:\/\/\w+(:\w+)?@(\[[:.%\w]+\]|[\w.-]+)(:\d+)?\/([^?#]*\/)?\d+$/;

/**
 * Where secrets come from (docs/secrets.md). Without VAULT_ADDR, from the environment; with it, from Vault
 * KV v2, the service authenticating with its own `<SERVICE>_VAULT_TOKEN` or `<SERVICE>_VAULT_ROLE_ID` and
 * `<SERVICE>_VAULT_SECRET_ID` (AppRole).
 */
export const vaultEnvShape = {
  VAULT_ADDR: z.union([z.literal(''), env.url(['http', 'https'])]).default(''),
  /** Mount of the KV v2 secrets engine. */
  VAULT_KV_MOUNT: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be a mount name such as secret')
    .default('secret'),
  /** Folder under the mount: a service reads `<mount>/<prefix>/<service>/...` and `<prefix>/shared/...`. */
  VAULT_KV_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,64}(\/[a-zA-Z0-9_-]{1,64})*$/, 'must be a path such as desk')
    .default('desk'),
  /** Mount of the AppRole auth method. */
  VAULT_APPROLE_MOUNT: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be a mount name such as approle')
    .default('approle'),
  /** Every call to Vault gives up after this long. */
  VAULT_TIMEOUT_MS: env.int(3000, 100, 60_000),
  /** A secret is read again from Vault (a rotation seen) at most this long after the last read. */
  VAULT_CACHE_TTL_MS: env.int(60_000, 0, 24 * 3600_000),
  /** Live trading refuses to start on environment secrets while Vault is configured but down, unless true. */
  SECRETS_ALLOW_LIVE_FALLBACK: env.bool(false),
  /**
   * Sentry DSN, a secret (Vault: shared/sentry, key dsn): errors are reported to Sentry when set. Its format
   * is checked here: the Sentry SDK would print a DSN it cannot parse, secret and all.
   */
  SENTRY_DSN: z
    .string()
    .regex(SENTRY_DSN_RE, 'must be a Sentry DSN such as https://<public key>@<host>/<project id>')
    .optional(),
  /** Sentry's environment tag; NODE_ENV when unset. */
  SENTRY_ENVIRONMENT: z.string().min(1).max(64).optional(),
  /** Sentry's release; `desk@<version>` when unset. */
  SENTRY_RELEASE: z.string().min(1).max(200).optional(),
};

/** Variables every service shares. */
export const platformEnvSchema = z.object({
  ...vaultEnvShape,
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: env.url(['postgres', 'postgresql']).default('postgres://postgres@127.0.0.1:5432/trading'),
  REDIS_URL: env.url(['redis', 'rediss']).default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, - or _')
    .default('desk'),
  /**
   * Re-drive sweeps (docs/runbook.md): what was accepted upstream and not recorded downstream after this
   * long is sent again (re-added if Redis lost it, retried if it ended failed). Within a day (jobs are kept
   * that long, so a completed one is never sent twice).
   */
  REDRIVE_AFTER_MS: env.int(120_000, 5_000, 6 * 3600_000),
  /**
   * Prepare each parameterised statement once per database connection (docs/adr/0024). Turn off only behind
   * a pooler that cannot carry prepared statements (PgBouncer in transaction mode before 1.21, or without
   * max_prepared_statements).
   */
  DATABASE_PREPARED_STATEMENTS: env.bool(true),
  /** How often each service's re-drive sweep looks. */
  REDRIVE_INTERVAL_MS: env.int(30_000, 1_000, 3600_000),
  /**
   * How long a state-changing job retries an infrastructure failure (database or Redis down) before it
   * ends in the failed set, in hours since it was added (fractions allowed); control commands never give
   * up (libs/platform/src/queue/retry-policy.ts).
   */
  JOB_RETRY_HORIZON_HOURS: z.coerce
    .number({ message: 'must be a number of hours' })
    .gt(0, 'must be more than 0 hours')
    .max(720, 'must be at most 720 hours (30 days)')
    .default(24),
  /** The longest wait between two attempts of a failing job (the backoff doubles from 500 ms up to it). */
  JOB_RETRY_MAX_DELAY_MS: env.int(5000, 10, 600_000),
  /**
   * On SIGTERM/SIGINT, how long the service may take to drain: its queue workers finish the jobs they hold
   * and the outbox relay publishes what they recorded; past it, workers are closed by force (their jobs
   * are retried as stalled) and the process exits.
   */
  SHUTDOWN_TIMEOUT_MS: env.int(10_000, 0, 600_000),
  /**
   * How often the gateway and risk read the venue's market catalog again (execution.market_catalog, which
   * execution refreshes from the venue): a changed tick or lot size is enforced at most this long after.
   */
  MARKET_CATALOG_REFRESH_MS: env.int(30_000, 100, 3600_000),
  /** Symbols the desk trades; each must be in the market catalog (libs/contracts/src/markets.ts). */
  TRADING_SYMBOLS: env.list('BTC/USDT,ETH/USDT,SOL/USDT').superRefine((symbols, ctx) => {
    if (symbols.length === 0) ctx.addIssue({ code: 'custom', message: 'must name at least one symbol' });
    for (const symbol of symbols) {
      if (!MARKET_CATALOG.some((m) => m.symbol === symbol)) {
        ctx.addIssue({
          code: 'custom',
          message: `"${symbol}" is not in the market catalog (${MARKET_CATALOG.map((m) => m.symbol).join(', ')})`,
        });
      }
    }
  }),
});

export type PlatformConfig = z.infer<typeof platformEnvSchema>;
