import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { SigningKeyError, parsePrivateKey, parsePublicKey } from '@desk/audit-chain';
import { ConfigError, env, loadConfig, platformEnvSchema } from '@desk/platform';

export const AUDIT_CONFIG = Symbol('AUDIT_CONFIG');

export const auditEnvSchema = platformEnvSchema.extend({
  SERVICE_HOST: z.string().default('127.0.0.1'),
  AUDIT_PORT: env.port(3004),
  /** Internal port serving Prometheus metrics at /metrics (never published; docs/operations.md). */
  AUDIT_METRICS_PORT: env.port(9304),
  /**
   * Database role the service connects as: it may only INSERT and SELECT the audit log (the db-roles step
   * creates `desk_audit` and the audit migrations grant it; another role needs the same grants, e.g.
   * `GRANT desk_audit TO it`). docs/adr/0009.
   */
  AUDIT_DATABASE_ROLE: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case PostgreSQL role name')
    .default('desk_audit'),
  /** Full URL for the service's connection; default: DATABASE_URL with the user AUDIT_DATABASE_ROLE, no password. */
  AUDIT_DATABASE_URL: env.url(['postgres', 'postgresql']).optional(),
  /** Ed25519 private key signing the checkpoints, base64 of PKCS#8 DER (or PEM). Required; a secret. */
  AUDIT_SIGNING_KEY: z.string().optional(),
  /** Public keys (base64 SPKI DER, comma-separated) whose checkpoints the verifier trusts, besides AUDIT_SIGNING_KEY's. */
  AUDIT_SIGNING_PUBLIC_KEY: env.list(''),
  /** How often the head of the chain is signed (only when it moved). */
  AUDIT_CHECKPOINT_INTERVAL_MS: env.int(60_000, 100, 24 * 3600 * 1000),
  /** Most events appended in one transaction; also how many jobs the worker takes at once. */
  AUDIT_BATCH_SIZE: env.int(200, 1, 5000),
  /** Longest an event waits for its batch to fill before it is appended anyway. */
  AUDIT_BATCH_WAIT_MS: env.int(10, 0, 1000),
});

export type AuditEnv = z.infer<typeof auditEnvSchema>;

export interface AuditConfig extends AuditEnv {
  /** Where the service connects (as AUDIT_DATABASE_ROLE); DATABASE_URL stays the owner's, for migrations. */
  auditDatabaseUrl: string;
  /** The checkpoint signing key. Read here only, so moving it to the secrets store changes one place. */
  signingKey: KeyObject;
}

function problem(name: string, message: string): ConfigError {
  return new ConfigError('audit', [`${name}: ${message}`]);
}

/** DATABASE_URL with its user replaced by the audit role (and its password dropped: it is the owner's). */
export function auditDatabaseUrl(e: AuditEnv): string {
  if (e.AUDIT_DATABASE_URL) return e.AUDIT_DATABASE_URL;
  const url = new URL(e.DATABASE_URL);
  url.username = e.AUDIT_DATABASE_ROLE;
  url.password = '';
  return url.toString();
}

/** The only place this service reads the environment. */
export function loadAuditConfig(source: Record<string, string | undefined> = process.env): AuditConfig {
  const e = loadConfig('audit', auditEnvSchema, source);
  if (!e.AUDIT_SIGNING_KEY) {
    throw problem(
      'AUDIT_SIGNING_KEY',
      'is not set: the audit service signs checkpoints with it. Generate one with `node apps/audit/dist/cli.js keygen`',
    );
  }
  let signingKey: KeyObject;
  try {
    signingKey = parsePrivateKey(e.AUDIT_SIGNING_KEY);
  } catch (error) {
    throw problem('AUDIT_SIGNING_KEY', error instanceof SigningKeyError ? error.message : 'is not readable');
  }
  return { ...e, auditDatabaseUrl: auditDatabaseUrl(e), signingKey };
}

export interface AuditCliConfig {
  /** The owner's connection: the verifier reads with the services stopped. */
  databaseUrl: string;
  /** Public keys whose checkpoints are trusted: AUDIT_SIGNING_PUBLIC_KEY, and AUDIT_SIGNING_KEY's own. */
  trustedKeys: KeyObject[];
}

/** Configuration of the audit CLI (`verify` needs no private key, only the public ones). */
export function loadAuditCliConfig(source: Record<string, string | undefined> = process.env): AuditCliConfig {
  const e = loadConfig('audit', auditEnvSchema, source);
  const trustedKeys: KeyObject[] = [];
  try {
    for (const text of e.AUDIT_SIGNING_PUBLIC_KEY) trustedKeys.push(parsePublicKey(text));
  } catch (error) {
    throw problem(
      'AUDIT_SIGNING_PUBLIC_KEY',
      error instanceof SigningKeyError ? error.message : 'is not readable',
    );
  }
  if (e.AUDIT_SIGNING_KEY) {
    try {
      trustedKeys.push(parsePublicKey(parsePrivateKey(e.AUDIT_SIGNING_KEY)));
    } catch (error) {
      throw problem(
        'AUDIT_SIGNING_KEY',
        error instanceof SigningKeyError ? error.message : 'is not readable',
      );
    }
  }
  return { databaseUrl: e.DATABASE_URL, trustedKeys };
}
