import { z } from 'zod';
import { PAPER_VENUE, money, unsignedDecimalString, venueIdSchema } from '@desk/contracts';
import { env, exchangeVenues, loadConfig, platformEnvSchema } from '@desk/platform';

export const EXECUTION_CONFIG = Symbol('EXECUTION_CONFIG');

/**
 * Where orders go: the paper venue, or EXECUTION_VENUE through ccxt on its testnet (sandbox URLs) or live.
 * Live orders are placed only while two approvers have enabled live trading on the venue (risk.venues).
 */
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
  // paper | testnet | live.
  EXECUTION_MODE: z
    .enum(EXECUTION_MODES, { message: `must be one of ${EXECUTION_MODES.join(', ')}` })
    .default('paper'),
  /** Venues whose API key and secret are loaded (comma-separated ccxt ids; docs/secrets.md). */
  EXCHANGE_VENUES: z.string().max(500).default(''),
  /** testnet/live: the ccxt exchange id traded (e.g. binance); it must be listed in EXCHANGE_VENUES. */
  EXECUTION_VENUE: venueIdSchema.optional(),
  /**
   * Replaces the origin of every API URL of the venue's ccxt client (paths kept): a forwarding proxy, or a
   * local stand-in venue. Unset normally.
   */
  EXECUTION_VENUE_API_URL: env.url(['http', 'https']).optional(),
  /** Timeout of one venue request (ms). */
  EXECUTION_VENUE_TIMEOUT_MS: env.int(10_000, 100, 120_000),
  /**
   * The venue's receive window (ms): a signed request older than this is refused by the venue (Binance's
   * recvWindow, sent with each request). An order whose placement answer was lost is not looked up before
   * the request's timeout plus this window has passed, so no earlier request can still land after.
   */
  EXECUTION_VENUE_RECV_WINDOW_MS: env.int(5_000, 0, 60_000),
  /**
   * How long an instance owns an order while it calls the venue about it. Another instance (or this one
   * after a restart) takes over an order only after this, and then first asks the venue by the client
   * order id: it must exceed the request timeout plus the venue's receive window (Binance: 5 s), so a
   * request still in flight can no longer be executed when the order is looked up.
   */
  EXECUTION_LEASE_MS: env.int(60_000, 1_000, 3_600_000),
  /** First wait before placing again after the venue was busy (rate limit, maintenance); doubles, ≤ 5 min. */
  EXECUTION_RETRY_BACKOFF_MS: env.int(1_000, 10, 300_000),
  /** How often open orders, recent fills and balances are compared with the venue (also at start). */
  EXECUTION_RECONCILE_MS: env.int(60_000, 1_000, 24 * 3600 * 1000),
  /** How far back reconciliation compares fills (ms). */
  EXECUTION_RECONCILE_LOOKBACK_MS: env.int(24 * 3600 * 1000, 60_000, 7 * 24 * 3600 * 1000),
  /** How often the venue's market catalog is loaded again (also at start). */
  EXECUTION_MARKETS_REFRESH_MS: env.int(3_600_000, 10_000, 7 * 24 * 3600 * 1000),
  // How often resting (OPEN) orders are checked against the market price.
  EXECUTION_TICK_MS: env.int(500, 20, 60_000),
  // A market price older than this is not used to fill; the order waits for a fresh one.
  EXECUTION_MAX_PRICE_AGE_MS: env.int(30_000, 1, 24 * 3600 * 1000),
  // Paper exchange: market orders fill this many basis points worse than the last price.
  PAPER_SLIPPAGE_BPS: env.int(5, 0, 10_000),
  // Paper exchange: fee in basis points of the fill notional, charged in the quote currency.
  PAPER_FEE_BPS: env.int(10, 0, 10_000),
  // Paper exchange: liquidity one order meets per match (quote currency); larger orders fill in parts.
  PAPER_LIQUIDITY_NOTIONAL: unsignedDecimalString
    .refine((v) => /[1-9]/.test(v), 'must be greater than 0')
    .default('1000000'),
  // Paper exchange: the simulated account's starting balances, "ASSET=amount,…".
  PAPER_STARTING_BALANCES: z
    .string()
    .regex(
      /^([A-Z0-9]{2,10}=[0-9]+(\.[0-9]+)?)(,[A-Z0-9]{2,10}=[0-9]+(\.[0-9]+)?)*$/,
      'must be "ASSET=amount,…", e.g. "USDT=1000000,BTC=1"',
    )
    .default('USDT=1000000'),
  // An order above this notional (quote currency) is placed only with a valid two-man approval. Same
  // variable as risk's: execution checks the approval record itself, whatever a job claims.
  APPROVAL_NOTIONAL_THRESHOLD: unsignedDecimalString
    .refine((v) => /[1-9]/.test(v), 'must be greater than 0')
    .default('25000'),
});

/** What only makes sense across variables (a real venue must be named, and have its keys listed). */
const executionEnvRules = executionEnvSchema.superRefine((c, ctx) => {
  if (c.EXECUTION_LEASE_MS < 2 * c.EXECUTION_VENUE_TIMEOUT_MS + c.EXECUTION_VENUE_RECV_WINDOW_MS) {
    ctx.addIssue({
      code: 'custom',
      path: ['EXECUTION_LEASE_MS'],
      message: 'must be at least twice EXECUTION_VENUE_TIMEOUT_MS plus EXECUTION_VENUE_RECV_WINDOW_MS',
    });
  }
  if (c.EXECUTION_MODE === 'paper') return;
  if (!c.EXECUTION_VENUE) {
    ctx.addIssue({
      code: 'custom',
      path: ['EXECUTION_VENUE'],
      message: `is required for ${c.EXECUTION_MODE}`,
    });
  } else if (c.EXECUTION_VENUE === PAPER_VENUE) {
    ctx.addIssue({
      code: 'custom',
      path: ['EXECUTION_VENUE'],
      message: 'must be a ccxt exchange id, not paper',
    });
  } else if (!exchangeVenues({ EXCHANGE_VENUES: c.EXCHANGE_VENUES }).includes(c.EXECUTION_VENUE)) {
    ctx.addIssue({
      code: 'custom',
      path: ['EXCHANGE_VENUES'],
      message: `must list ${c.EXECUTION_VENUE} (its API key and secret are loaded for the venues listed)`,
    });
  }
});

export type ExecutionConfig = z.infer<typeof executionEnvSchema>;

/** PAPER_STARTING_BALANCES as amounts per asset. */
export function paperStartingBalances(config: ExecutionConfig): Map<string, ReturnType<typeof money>> {
  return new Map(
    config.PAPER_STARTING_BALANCES.split(',').map((pair) => {
      const [asset = '', amount = '0'] = pair.split('=');
      return [asset, money(amount)];
    }),
  );
}

/** The only place this service reads the environment. */
export function loadExecutionConfig(
  source: Record<string, string | undefined> = process.env,
): ExecutionConfig {
  return loadConfig('execution', executionEnvRules, source);
}
