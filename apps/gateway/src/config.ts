import { z } from 'zod';
import { env, loadConfig, platformEnvSchema } from '@desk/platform';

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

export const gatewayEnvSchema = platformEnvSchema.extend({
  SERVICE_HOST: z.string().default('127.0.0.1'),
  GATEWAY_PORT: env.port(3000),
});

export type GatewayConfig = z.infer<typeof gatewayEnvSchema>;

/** The only place this service reads the environment. */
export function loadGatewayConfig(source: Record<string, string | undefined> = process.env): GatewayConfig {
  return loadConfig('gateway', gatewayEnvSchema, source);
}
