import {
  DATABASE_OWNER_ROLE,
  DESK_SERVICES,
  SERVICE_DATABASE_ROLES,
  roleDatabaseUrl,
  type DeskService,
} from '../persistence/database-roles';

/**
 * Which variables each service process receives (docs/adr/0009-least-privilege.md). `npm start` and the
 * end-to-end tests build every child's environment with `envFor`, so a secret reaches only the process
 * that uses it: the audit signing key only audit, the webhook secret only the gateway, each database
 * URL (with its password) only its service. Nothing else from the parent's environment passes.
 */

/** Variables every service reads (docs: .env.example, "Shared by every service"), and what Node needs. */
const SHARED = [
  'NODE_ENV',
  'LOG_LEVEL',
  'REDIS_PREFIX',
  'TRADING_SYMBOLS',
  'PATH',
  'HOME',
  'TMPDIR',
  'TZ',
  'LANG',
  'NODE_EXTRA_CA_CERTS',
];

/** A service's own variables: by prefix (its secrets are named with it), plus a few named ones. */
const OWN: Record<DeskService, { prefixes: string[]; names: string[] }> = {
  gateway: {
    prefixes: ['GATEWAY_', 'THROTTLE_', 'APPROVAL_', 'KEY_ROTATION_', 'IDEMPOTENCY_', 'SECURITY_AUDIT_'],
    // The public half only: the gateway verifies checkpoints, it never signs them.
    names: ['AUDIT_SIGNING_PUBLIC_KEY', 'AUDIT_VERIFY_TIMEOUT_MS'],
  },
  'agent-analysis': { prefixes: ['AGENT_', 'MARKET_FEED'], names: ['SERVICE_HOST'] },
  risk: { prefixes: ['RISK_'], names: ['SERVICE_HOST', 'APPROVAL_NOTIONAL_THRESHOLD'] },
  execution: {
    prefixes: ['EXECUTION_', 'PAPER_'],
    names: ['SERVICE_HOST', 'APPROVAL_NOTIONAL_THRESHOLD'],
  },
  audit: { prefixes: ['AUDIT_'], names: ['SERVICE_HOST'] },
};

/** The prefix of a service's connection variables: `<PREFIX>_DATABASE_URL`, `<PREFIX>_REDIS_URL`. */
export const SERVICE_ENV_PREFIX: Record<DeskService, string> = {
  gateway: 'GATEWAY',
  'agent-analysis': 'AGENT_ANALYSIS',
  risk: 'RISK',
  execution: 'EXECUTION',
  audit: 'AUDIT',
};

/** Read by the local set-up only (`npm start`, `npm run migrate`), never passed to a service. */
export const OWNER_PASSWORD_VAR = 'OWNER_DATABASE_PASSWORD';
export const DATABASE_ADMIN_URL_VAR = 'DATABASE_ADMIN_URL';
export const passwordVar = (service: DeskService): string =>
  `${SERVICE_ENV_PREFIX[service]}_DATABASE_PASSWORD`;
export const databaseUrlVar = (service: DeskService): string => `${SERVICE_ENV_PREFIX[service]}_DATABASE_URL`;
export const redisUrlVar = (service: DeskService): string => `${SERVICE_ENV_PREFIX[service]}_REDIS_URL`;

/** Variables only the set-up scripts read (documented in .env.example like the services' own). */
export const SETUP_VARIABLES: readonly string[] = [
  DATABASE_ADMIN_URL_VAR,
  OWNER_PASSWORD_VAR,
  ...DESK_SERVICES.map(passwordVar),
  ...DESK_SERVICES.map(redisUrlVar),
];

function isOwn(service: DeskService, name: string): boolean {
  const own = OWN[service];
  return own.names.includes(name) || own.prefixes.some((p) => name.startsWith(p));
}

/**
 * The environment of one service's process, from the full set-up environment. Passes the shared
 * variables and the service's own, except the set-up's passwords; REDIS_URL is the service's own
 * `<PREFIX>_REDIS_URL` when set (a per-service Redis ACL user). DATABASE_URL (the owner's, for
 * migrations) is never passed: the service connects with `<PREFIX>_DATABASE_URL`, or, without it, as its
 * role to DATABASE_URL's database (locally, trust auth).
 */
export function envFor(
  service: DeskService,
  env: Record<string, string | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (SETUP_VARIABLES.includes(name)) continue;
    if (SHARED.includes(name) || isOwn(service, name)) out[name] = value;
  }
  const redisUrl = env[redisUrlVar(service)] ?? env.REDIS_URL;
  if (redisUrl !== undefined) out.REDIS_URL = redisUrl;
  const databaseUrl = databaseUrlVar(service);
  if (out[databaseUrl] === undefined && env.DATABASE_URL !== undefined) {
    out[databaseUrl] = roleDatabaseUrl(env.DATABASE_URL, SERVICE_DATABASE_ROLES[service]);
  }
  return out;
}

/**
 * Local set-up: the owner's and each service's connection, from DATABASE_URL's host and database and the
 * passwords the set-up generated (`<PREFIX>_DATABASE_PASSWORD`, `OWNER_DATABASE_PASSWORD`). A
 * `<PREFIX>_DATABASE_URL` already set (e.g. a managed database) is kept as it is.
 */
export function withLocalDatabaseUrls(env: Record<string, string | undefined>): {
  ownerUrl: string;
  env: Record<string, string | undefined>;
} {
  const base = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/trading';
  const out = { ...env };
  for (const service of DESK_SERVICES) {
    const name = databaseUrlVar(service);
    out[name] ??= roleDatabaseUrl(base, SERVICE_DATABASE_ROLES[service], env[passwordVar(service)]);
  }
  return { ownerUrl: roleDatabaseUrl(base, DATABASE_OWNER_ROLE, env[OWNER_PASSWORD_VAR]), env: out };
}
