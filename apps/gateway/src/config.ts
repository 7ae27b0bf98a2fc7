import { z } from 'zod';
import { env, loadConfig, platformEnvSchema } from '@desk/platform';

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

export const gatewayEnvSchema = platformEnvSchema.extend({
  /** The gateway is the only service reachable from outside; it binds to loopback unless told otherwise. */
  GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  GATEWAY_PORT: env.port(3000),
  /** Bearer key for the API until the operator and key model lands. `npm start` generates one into .env.local. */
  GATEWAY_API_KEY: z
    .string({ message: 'is not set (npm start generates one into .env.local)' })
    .min(32, 'must be at least 32 characters')
    .max(256, 'must be at most 256 characters')
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
  GATEWAY_BODY_LIMIT_BYTES: env.int(65_536, 1024, 10 * 1024 * 1024),
  /** How long an Idempotency-Key and its stored response are kept. */
  IDEMPOTENCY_TTL_HOURS: env.int(24, 1, 24 * 30),
});

export type GatewayConfig = z.infer<typeof gatewayEnvSchema>;

/** The only place this service reads the environment. */
export function loadGatewayConfig(source: Record<string, string | undefined> = process.env): GatewayConfig {
  return loadConfig('gateway', gatewayEnvSchema, source);
}
