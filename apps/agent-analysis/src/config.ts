import { z } from 'zod';
import { money, unsignedDecimalString } from '@desk/contracts';
import { env, loadConfig, platformEnvSchema } from '@desk/platform';
import { AGENT_NAMES, type AgentName } from './modules/agents/agent';

export const AGENT_ANALYSIS_CONFIG = Symbol('AGENT_ANALYSIS_CONFIG');

export const MARKET_FEEDS = ['sim', 'csv', 'ccxt'] as const;
export type MarketFeedKind = (typeof MARKET_FEEDS)[number];

/** "trend=1,mean-reversion=0.5" -> weights per agent; an agent left out has weight 0 (its signal is recorded, not counted). */
export function parseAgentWeights(value: string, ctx: z.RefinementCtx): Record<AgentName, string> {
  const weights = Object.fromEntries(AGENT_NAMES.map((n) => [n, '0'])) as Record<AgentName, string>;
  const seen = new Set<string>();
  for (const entry of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name, weight, extra] = entry.split('=').map((s) => s.trim());
    if (!name || weight === undefined || extra !== undefined) {
      ctx.addIssue({ code: 'custom', message: `"${entry}" must look like name=weight` });
    } else if (!(AGENT_NAMES as readonly string[]).includes(name)) {
      ctx.addIssue({ code: 'custom', message: `unknown agent "${name}" (known: ${AGENT_NAMES.join(', ')})` });
    } else if (seen.has(name)) {
      ctx.addIssue({ code: 'custom', message: `agent "${name}" is listed twice` });
    } else if (!unsignedDecimalString.safeParse(weight).success) {
      ctx.addIssue({
        code: 'custom',
        message: `weight of "${name}" must be a non-negative decimal such as "1.5"`,
      });
    } else {
      seen.add(name);
      weights[name as AgentName] = weight;
    }
  }
  if (Object.values(weights).every((w) => money(w).isZero())) {
    ctx.addIssue({ code: 'custom', message: 'at least one agent needs a positive weight' });
  }
  return weights;
}

const fraction = unsignedDecimalString.refine((v) => money(v).lte(1), 'must be between 0 and 1');
const positiveDecimal = unsignedDecimalString.refine((v) => money(v).gt(0), 'must be greater than 0');

export const agentAnalysisEnvSchema = platformEnvSchema
  .extend({
    /**
     * The service's own connection (its login role, with its password; docs/adr/0009). Default:
     * DATABASE_URL's database as the role desk_agents without a password (local trust auth).
     */
    AGENT_ANALYSIS_DATABASE_URL: env.url(['postgres', 'postgresql']).optional(),
    SERVICE_HOST: z.string().default('127.0.0.1'),
    AGENT_ANALYSIS_PORT: env.port(3001),
    /** Internal port serving Prometheus metrics at /metrics (never published; docs/operations.md). */
    AGENT_ANALYSIS_METRICS_PORT: env.port(9301),
    // Where candles come from: sim (offline, seeded), csv (replay of a file) or ccxt (public exchange data).
    MARKET_FEED: z.enum(MARKET_FEEDS).default('sim'),
    // Seed of the simulated feed: the same seed gives the same prices.
    MARKET_FEED_SEED: env.int(42),
    // OHLCV file replayed by the csv feed (columns timestamp,symbol,open,high,low,close,volume).
    MARKET_FEED_CSV_PATH: z.string().min(1).optional(),
    // ccxt exchange id for the ccxt feed (public endpoints only, no keys).
    MARKET_FEED_EXCHANGE: z
      .string()
      .regex(/^[a-z0-9]{2,30}$/, 'must be a ccxt exchange id such as binance')
      .default('binance'),
    // Candle timeframe for the ccxt feed.
    MARKET_FEED_TIMEFRAME: z
      .string()
      .regex(/^\d{1,3}[smhdwM]$/, 'must be a timeframe such as 1m, 15m, 1h, 1d')
      .default('1m'),
    // Interval between two agent runs.
    AGENT_SCHEDULE_MS: env.int(5000, 100, 24 * 3600 * 1000),
    // Weight of each agent in the blended conviction.
    AGENT_WEIGHTS: z
      .string()
      .default('trend=1,mean-reversion=1,volatility=1')
      .transform((v, ctx) => parseAgentWeights(v, ctx)),
    // An intent is emitted only when |blended conviction| reaches this (0..1).
    AGENT_CONVICTION_THRESHOLD: fraction.default('0.6'),
    // Notional (quote currency) of an order at full conviction; scaled down by |blend|.
    AGENT_MAX_ORDER_NOTIONAL: positiveDecimal.default('1000'),
    // Minimum time between two intents for the same symbol.
    AGENT_COOLDOWN_MS: env.int(60_000),
    // false: signals and decisions are still recorded, but no intent is emitted.
    AGENT_TRADING_ENABLED: env.bool(true),
  })
  .superRefine((c, ctx) => {
    if (c.MARKET_FEED === 'csv' && !c.MARKET_FEED_CSV_PATH) {
      ctx.addIssue({
        code: 'custom',
        path: ['MARKET_FEED_CSV_PATH'],
        message: 'is required when MARKET_FEED=csv',
      });
    }
  });

export type AgentAnalysisConfig = z.infer<typeof agentAnalysisEnvSchema>;

/** The only place this service reads the environment. */
export function loadAgentAnalysisConfig(
  source: Record<string, string | undefined> = process.env,
): AgentAnalysisConfig {
  return loadConfig('agent-analysis', agentAnalysisEnvSchema, source);
}
