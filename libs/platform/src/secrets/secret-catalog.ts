import { SERVICE_ENV_PREFIX } from '../config/service-env';
import { DESK_SERVICES, type DeskService } from '../persistence/database-roles';

/**
 * Every secret the desk knows (docs/secrets.md): the environment variable a service reads it from in the
 * fallback, and where it lives in Vault (KV v2, under VAULT_KV_MOUNT/VAULT_KV_PREFIX). A service reads only
 * its own `<service>/...` paths and `shared/...` (infra/vault/policies/<service>.hcl).
 */
export interface SecretSpec {
  /** The variable it is merged into before the config is validated (and read from in the fallback). */
  name: string;
  /** Path under the prefix, e.g. `gateway/database`. */
  path: string;
  /** Key inside the KV secret, e.g. `password`. */
  key: string;
  /** What it is, for the docs and the boot report. */
  description: string;
}

/** The folder of a service's own secrets in Vault (its policy's path). */
export const VAULT_SERVICE_FOLDER: Record<DeskService, string> = {
  gateway: 'gateway',
  'agent-analysis': 'agent-analysis',
  risk: 'risk',
  execution: 'execution',
  audit: 'audit',
};

const SERVICE_PREFIX = SERVICE_ENV_PREFIX;

/** `EXCHANGE_<VENUE>_API_KEY` / `_API_SECRET`: the venue id upper-cased, `-` as `_`. */
export function exchangeVar(venue: string, part: 'API_KEY' | 'API_SECRET'): string {
  return `EXCHANGE_${venue.toUpperCase().replace(/-/g, '_')}_${part}`;
}

/** Venues whose exchange keys execution loads (EXCHANGE_VENUES, comma-separated venue ids). */
export function exchangeVenues(env: Record<string, string | undefined>): string[] {
  return (env.EXCHANGE_VENUES ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

/** The secrets one service may read. */
export function secretsOf(service: DeskService, env: Record<string, string | undefined>): SecretSpec[] {
  const folder = VAULT_SERVICE_FOLDER[service];
  const prefix = SERVICE_PREFIX[service];
  const specs: SecretSpec[] = [
    {
      name: `${prefix}_DATABASE_PASSWORD`,
      path: `${folder}/database`,
      key: 'password',
      description: `password of the ${service} database role`,
    },
    {
      name: `${prefix}_REDIS_PASSWORD`,
      path: `${folder}/redis`,
      key: 'password',
      description: `password of the ${service} Redis ACL user`,
    },
    { name: 'SENTRY_DSN', path: 'shared/sentry', key: 'dsn', description: 'Sentry DSN (error reporting)' },
  ];
  if (service === 'gateway') {
    specs.push({
      name: 'APPROVAL_WEBHOOK_SECRET',
      path: 'gateway/webhook',
      key: 'secret',
      description: 'HMAC key signing the approval webhook',
    });
  }
  if (service === 'audit') {
    specs.push({
      name: 'AUDIT_SIGNING_KEY',
      path: 'audit/signing',
      key: 'private_key',
      description: 'Ed25519 key signing audit checkpoints',
    });
  }
  if (service === 'execution') {
    for (const venue of exchangeVenues(env)) {
      specs.push(
        {
          name: exchangeVar(venue, 'API_KEY'),
          path: `execution/exchanges/${venue}`,
          key: 'api_key',
          description: `${venue} API key`,
        },
        {
          name: exchangeVar(venue, 'API_SECRET'),
          path: `execution/exchanges/${venue}`,
          key: 'api_secret',
          description: `${venue} API secret`,
        },
      );
    }
  }
  return specs;
}

/** Per-service Vault credentials: `<PREFIX>_VAULT_TOKEN`, or `<PREFIX>_VAULT_ROLE_ID` and `_SECRET_ID`. */
export const vaultAuthVars = (service: DeskService) => ({
  token: `${SERVICE_PREFIX[service]}_VAULT_TOKEN`,
  roleId: `${SERVICE_PREFIX[service]}_VAULT_ROLE_ID`,
  secretId: `${SERVICE_PREFIX[service]}_VAULT_SECRET_ID`,
});

/** Values that are never real credentials (examples, placeholders): refused for live trading. */
export const DEFAULT_CREDENTIALS = new Set([
  '',
  'change-me',
  'changeme',
  'secret',
  'password',
  'test',
  'paper',
  'xxx',
]);

/** Variables the secrets resolution reads besides the shared VAULT_* ones (documented in .env.example). */
export const SECRETS_VARIABLES: readonly string[] = [
  'EXCHANGE_VENUES',
  ...DESK_SERVICES.flatMap((s) => Object.values(vaultAuthVars(s))),
];
