import { z } from 'zod';
import { unsignedDecimalString } from '@desk/contracts';
import { env, loadConfig, platformEnvSchema } from '@desk/platform';

export const EXECUTION_CONFIG = Symbol('EXECUTION_CONFIG');

/** Where orders go. Only the paper exchange exists so far; the other modes are refused at boot. */
export const EXECUTION_MODES = ['paper', 'testnet', 'live'] as const;
export type ExecutionMode = (typeof EXECUTION_MODES)[number];

export const executionEnvSchema = platformEnvSchema.extend({
  /**
   * The service's own connection (its login role, with its password; docs/adr/0009). Default:
   * DATABASE_URL's database as the role desk_execution without a password (local trust auth).
   */
  EXECUTION_DATABASE_URL: env.url(['postgres', 'postgresql']).optional(),
  SERVICE_HOST: z.string().default('127.0.0.1'),
  EXECUTION_PORT: env.port(3003),
  /** Internal port serving Prometheus metrics at /metrics (never published; docs/operations.md). */
  EXECUTION_METRICS_PORT: env.port(9303),
  // paper | testnet | live; only paper is implemented in this version.
  EXECUTION_MODE: z
    .enum(EXECUTION_MODES, { message: `must be one of ${EXECUTION_MODES.join(', ')}` })
    .default('paper')
    .refine((mode) => mode === 'paper', {
      message: 'only "paper" is available in this version (testnet and live are not implemented yet)',
    }),
  // How often resting (OPEN) orders are checked against the market price.
  EXECUTION_TICK_MS: env.int(500, 20, 60_000),
  // A market price older than this is not used to fill; the order waits for a fresh one.
  EXECUTION_MAX_PRICE_AGE_MS: env.int(30_000, 1, 24 * 3600 * 1000),
  // Paper exchange: market orders fill this many basis points worse than the last price.
  PAPER_SLIPPAGE_BPS: env.int(5, 0, 10_000),
  // Paper exchange: fee in basis points of the fill notional, charged in the quote currency.
  PAPER_FEE_BPS: env.int(10, 0, 10_000),
  // An order above this notional (quote currency) is placed only with a valid two-man approval. Same
  // variable as risk's: execution checks the approval record itself, whatever a job claims.
  APPROVAL_NOTIONAL_THRESHOLD: unsignedDecimalString
    .refine((v) => /[1-9]/.test(v), 'must be greater than 0')
    .default('25000'),
});

export type ExecutionConfig = z.infer<typeof executionEnvSchema>;

/** The only place this service reads the environment. */
export function loadExecutionConfig(
  source: Record<string, string | undefined> = process.env,
): ExecutionConfig {
  return loadConfig('execution', executionEnvSchema, source);
}
