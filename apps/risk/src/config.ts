import { z } from 'zod';
import { unsignedDecimalString } from '@desk/contracts';
import { env, loadConfig, platformEnvSchema } from '@desk/platform';

export const RISK_CONFIG = Symbol('RISK_CONFIG');

export const riskEnvSchema = platformEnvSchema.extend({
  SERVICE_HOST: z.string().default('127.0.0.1'),
  RISK_PORT: env.port(3002),
  /** Largest notional (quantity x price, in the quote currency) one order may have. Decimal string. */
  RISK_MAX_ORDER_NOTIONAL: unsignedDecimalString
    .refine((v) => /[1-9]/.test(v), 'must be greater than 0')
    .default('50000'),
  /** A market order is valued at the last market price only if that price is at most this old. */
  RISK_MAX_PRICE_AGE_MS: env.int(30_000, 1),
});

export type RiskConfig = z.infer<typeof riskEnvSchema>;

/** The only place this service reads the environment. */
export function loadRiskConfig(source: Record<string, string | undefined> = process.env): RiskConfig {
  return loadConfig('risk', riskEnvSchema, source);
}
