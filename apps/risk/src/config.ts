import { z } from 'zod';
import { env, loadConfig, platformEnvSchema } from '@desk/platform';

export const RISK_CONFIG = Symbol('RISK_CONFIG');

export const riskEnvSchema = platformEnvSchema.extend({
  SERVICE_HOST: z.string().default('127.0.0.1'),
  RISK_PORT: env.port(3002),
});

export type RiskConfig = z.infer<typeof riskEnvSchema>;

/** The only place this service reads the environment. */
export function loadRiskConfig(source: Record<string, string | undefined> = process.env): RiskConfig {
  return loadConfig('risk', riskEnvSchema, source);
}
