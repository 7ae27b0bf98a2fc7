import { z } from 'zod';
import { parsePublicKey } from '@desk/audit-chain';
import { ConfigError, env, loadConfig, platformEnvSchema } from '@desk/platform';

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

export const gatewayEnvSchema = platformEnvSchema.extend({
  /**
   * The service's own connection (its login role, with its password; docs/adr/0009). Default:
   * DATABASE_URL's database as the role desk_gateway without a password (local trust auth).
   */
  GATEWAY_DATABASE_URL: env.url(['postgres', 'postgresql']).optional(),
  /** The gateway is the only service reachable from outside; it binds to loopback unless told otherwise. */
  GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  GATEWAY_PORT: env.port(3000),
  /** Internal port serving Prometheus metrics at /metrics (never published; docs/operations.md). */
  GATEWAY_METRICS_PORT: env.port(9300),
  /** Address of the metrics port: loopback by default, whatever GATEWAY_HOST is (the API is public, metrics are not). */
  GATEWAY_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** Proxies whose X-Forwarded-For is believed (IPs or CIDRs); empty: the peer address is the client. */
  GATEWAY_TRUSTED_PROXIES: env.list(''),
  /** Browser origins allowed by CORS; empty: no cross-origin access at all. */
  GATEWAY_CORS_ORIGINS: env
    .list('')
    .pipe(
      z.array(z.url({ protocol: /^https?$/, message: 'must be an origin such as https://desk.example.com' })),
    ),
  /** Requests per key and per client IP in each window; order submission has its own, tighter limit. */
  THROTTLE_TTL_MS: env.int(60_000, 1000, 3_600_000),
  THROTTLE_LIMIT: env.int(100, 1, 1_000_000),
  THROTTLE_IP_LIMIT: env.int(100, 1, 1_000_000),
  THROTTLE_ORDER_LIMIT: env.int(20, 1, 1_000_000),
  /**
   * Failed authentications, access denials and throttle hits are audited one by one only up to
   * SECURITY_AUDIT_MAX_PER_WINDOW per source (key id, else client IP) in each window; the rest are counted
   * and summarized (one record per action and window with the suppressed count).
   */
  SECURITY_AUDIT_WINDOW_MS: env.int(60_000, 1000, 3_600_000),
  SECURITY_AUDIT_MAX_PER_WINDOW: env.int(10, 1, 1000),
  /**
   * Public keys (base64 SPKI DER or PEM, comma-separated) whose audit checkpoints a verification run
   * (POST /v1/audit/verifications) trusts; never taken from the database. Empty: checkpoints are reported as unverified.
   */
  AUDIT_SIGNING_PUBLIC_KEY: env.list('').transform((texts, ctx) => {
    try {
      return texts.map((t) => parsePublicKey(t));
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be Ed25519 public keys (base64 SPKI DER or PEM)' });
      return z.NEVER;
    }
  }),
  /**
   * A full-chain verification run (POST /v1/audit/verifications) gives up after this long: each statement
   * has it as its statement_timeout, and the walk as its deadline. The run then reports `timed_out`.
   */
  AUDIT_VERIFY_TIMEOUT_MS: env.int(300_000, 100, 3_600_000),
  /** Two-man rule: distinct approvers (never the requester) needed to release a critical action. */
  APPROVAL_REQUIRED_APPROVALS: env.int(2, 1, 10),
  /** An approval request not decided in this time expires and never executes. */
  APPROVAL_TTL_SECONDS: env.int(900, 10, 7 * 86_400),
  /** Optional: POSTed (HMAC-SHA256 signed) when an approval request is created, e.g. to route it to chat. */
  APPROVAL_WEBHOOK_URL: z.union([z.literal(''), z.url({ protocol: /^https?$/ })]).default(''),
  /** Secret for the webhook signature (required when APPROVAL_WEBHOOK_URL is set). */
  APPROVAL_WEBHOOK_SECRET: z.string().default(''),
  /** After a rotation, the old key keeps working this long (capped by its own expiry). */
  KEY_ROTATION_OVERLAP_SECONDS: env.int(86_400, 0, 30 * 86_400),
  GATEWAY_BODY_LIMIT_BYTES: env.int(65_536, 1024, 10 * 1024 * 1024),
  /**
   * The API docs (Swagger UI at /docs, /docs/openapi.json): 'true', 'false', or empty for on except when
   * NODE_ENV=production. Off, /docs is a 404 and the content security policy allows no inline script.
   */
  GATEWAY_API_DOCS: z.enum(['', 'true', 'false']).default(''),
  /** How long an Idempotency-Key and its stored response are kept. */
  IDEMPOTENCY_TTL_HOURS: env.int(24, 1, 24 * 30),
});

export type GatewayConfig = z.infer<typeof gatewayEnvSchema>;

/** Cross-field rules (kept out of the object schema so its fields stay listable). */
function checkGatewayConfig(c: GatewayConfig): string[] {
  const problems: string[] = [];
  if (c.APPROVAL_WEBHOOK_URL && c.APPROVAL_WEBHOOK_SECRET.length < 32) {
    problems.push('APPROVAL_WEBHOOK_SECRET: must be at least 32 characters when APPROVAL_WEBHOOK_URL is set');
  }
  return problems;
}

/** The only place this service reads the environment. */
export function loadGatewayConfig(source: Record<string, string | undefined> = process.env): GatewayConfig {
  const config = loadConfig('gateway', gatewayEnvSchema, source);
  const problems = checkGatewayConfig(config);
  if (problems.length) throw new ConfigError('gateway', problems);
  return config;
}
