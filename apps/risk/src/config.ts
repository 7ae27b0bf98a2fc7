import { z } from 'zod';
import { MARKET_CATALOG, TradingState, money, unsignedDecimalString } from '@desk/contracts';
import { ConfigError, env, loadConfig, platformEnvSchema } from '@desk/platform';

export const RISK_CONFIG = Symbol('RISK_CONFIG');

const positiveDecimal = (fallback: string) =>
  unsignedDecimalString.refine((v) => /[1-9]/.test(v), 'must be greater than 0').default(fallback);

/** A fraction in (0, 1]: "0.05" is 5 %. */
const fraction = (fallback: string) =>
  positiveDecimal(fallback).refine((v) => money(v).lte(1), 'must be a fraction between 0 and 1');

/** What a breaker does when it trips. */
const breakerAction = (fallback: TradingState.Reducing | TradingState.Halted) =>
  z
    .enum([TradingState.Reducing, TradingState.Halted], { message: 'must be REDUCING or HALTED' })
    .default(fallback);

/** "0.05" (every symbol) or "BTC/USDT=0.05,ETH/USDT=0.08" (per symbol); empty: no stop-loss. */
const stopLoss = z
  .string()
  .default('')
  .transform((raw, ctx) => {
    const out: Record<string, string> = {};
    const text = raw.trim();
    if (!text) return out;
    const entries = text.includes('=') ? text.split(',') : [`*=${text}`];
    for (const entry of entries) {
      const [symbol = '', pct = ''] = entry.split('=').map((s) => s.trim());
      const known = symbol === '*' || MARKET_CATALOG.some((m) => m.symbol === symbol);
      if (!known || !/^0?\.\d{1,18}$|^1$/.test(pct) || !/[1-9]/.test(pct)) {
        ctx.addIssue({
          code: 'custom',
          message: `"${entry}" is not "<fraction>" or "<symbol>=<fraction>" (e.g. 0.05 or BTC/USDT=0.05)`,
        });
        continue;
      }
      out[symbol] = pct.startsWith('.') ? `0${pct}` : pct;
    }
    return out;
  });

export const riskEnvSchema = platformEnvSchema.extend({
  /**
   * The service's own connection (its login role, with its password; docs/adr/0009). Default:
   * DATABASE_URL's database as the role desk_risk without a password (local trust auth).
   */
  RISK_DATABASE_URL: env.url(['postgres', 'postgresql']).optional(),
  SERVICE_HOST: z.string().default('127.0.0.1'),
  RISK_PORT: env.port(3002),
  /** Internal port serving Prometheus metrics at /metrics (never published; docs/operations.md). */
  RISK_METRICS_PORT: env.port(9302),
  /** A market price older than this is not used to value an order (or to check its price band). */
  RISK_MAX_PRICE_AGE_MS: env.int(30_000, 1),

  // Initial values of the limits in risk.limits (the table is the truth once a limit is changed through
  // the API; until then the service applies these at boot). Every limit: a higher value is more risk.
  /** Largest notional (quantity x price, in the quote currency) one order may have. */
  RISK_MAX_ORDER_NOTIONAL: positiveDecimal('50000'),
  /** Largest position in one symbol, as a fraction of equity (worst case with open orders). */
  RISK_MAX_POSITION_SHARE: positiveDecimal('0.5'),
  /** Largest gross exposure (sum over symbols of |position| x price), quote currency. */
  RISK_MAX_GROSS_EXPOSURE: positiveDecimal('200000'),
  /** Loss since the start of the day (realized plus unrealized) at which new risk stops, quote currency. */
  RISK_DAILY_LOSS_LIMIT: positiveDecimal('5000'),
  /** Orders let through (accepted or held for approval) per day. */
  RISK_MAX_ORDERS_PER_DAY: env.int(1000, 0),
  /** Orders submitted per minute, per symbol and in total. */
  RISK_MAX_SUBMIT_RATE_PER_SYMBOL: env.int(60, 0),
  RISK_MAX_SUBMIT_RATE_TOTAL: env.int(300, 0),
  /** Open (not yet final) orders one trader may have at once; risk's own closing orders do not count. */
  RISK_MAX_OPEN_ORDERS: env.int(100, 0),
  /** Fat-finger band: a limit price at most this fraction through the last market price. */
  RISK_PRICE_BAND: positiveDecimal('0.05'),

  /** Symbols orders may be placed in (comma-separated); empty: every symbol in TRADING_SYMBOLS. */
  RISK_SYMBOL_ALLOWLIST: env.list('').superRefine((symbols, ctx) => {
    for (const symbol of symbols) {
      if (!MARKET_CATALOG.some((m) => m.symbol === symbol))
        ctx.addIssue({ code: 'custom', message: `"${symbol}" is not in the market catalog` });
    }
  }),
  /** An order above this notional (quote currency) needs two approvers (the two-man rule). */
  APPROVAL_NOTIONAL_THRESHOLD: positiveDecimal('25000'),
  /** Starting capital (quote currency): equity = this + realized P&L - fees + unrealized P&L. */
  RISK_STARTING_EQUITY: positiveDecimal('100000'),
  /** Time zone whose midnight starts a trading day (IANA name). */
  RISK_DAY_TIMEZONE: z
    .string()
    .default('UTC')
    .refine((tz) => isTimeZone(tz), 'must be an IANA time zone such as UTC or Europe/Zurich'),

  /** How often the breakers and stop-losses look at the market, equity and execution reports. */
  RISK_BREAKER_INTERVAL_MS: env.int(1000, 50, 3_600_000),
  /**
   * One writer at a time (docs/adr/0015): a standby tries the leader lock, and the leader pings its lock
   * session, this often. A SIGKILLed leader is replaced within about one poll.
   */
  RISK_LEADER_POLL_MS: env.int(1000, 50, 60_000),
  /**
   * PostgreSQL ends a lock session it has not heard from for this long (idle_session_timeout, TCP
   * keepalives): the bound on a takeover when the leader's host freezes or its network is cut.
   */
  RISK_LEADER_SESSION_TIMEOUT_MS: env.int(10_000, 1000, 600_000),
  /** A breaker trips only after this many consecutive breaches (one bad tick does not halt the desk). */
  RISK_BREAKER_CONSECUTIVE: env.int(3, 1, 1000),
  /** Drawdown from peak equity (fraction) that trips the drawdown breaker, and what it does. */
  RISK_DRAWDOWN_THRESHOLD: fraction('0.1'),
  RISK_DRAWDOWN_ACTION: breakerAction(TradingState.Halted),
  /** Share of orders failing at execution within the window that trips the error-rate breaker. */
  RISK_ERROR_RATE_THRESHOLD: fraction('0.5'),
  RISK_ERROR_RATE_WINDOW_MS: env.int(300_000, 1000),
  /** Below this many orders in the window the error rate is not judged. */
  RISK_ERROR_RATE_MIN_ORDERS: env.int(5, 1),
  RISK_ERROR_RATE_ACTION: breakerAction(TradingState.Halted),
  /** Price move within the window (fraction) that counts as extreme, on at least RISK_VOLATILITY_MIN_SYMBOLS. */
  RISK_VOLATILITY_THRESHOLD: fraction('0.05'),
  RISK_VOLATILITY_WINDOW_MS: env.int(60_000, 1000),
  RISK_VOLATILITY_MIN_SYMBOLS: env.int(2, 1),
  RISK_VOLATILITY_ACTION: breakerAction(TradingState.Reducing),
  /** Stop-loss per position as a fraction of its entry price: "0.05" or "BTC/USDT=0.05,ETH/USDT=0.1"; empty: off. */
  RISK_STOP_LOSS_PCT: stopLoss,
});

export type RiskConfig = z.infer<typeof riskEnvSchema>;

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The only place this service reads the environment. */
export function loadRiskConfig(source: Record<string, string | undefined> = process.env): RiskConfig {
  const config = loadConfig('risk', riskEnvSchema, source);
  // The leader pings several times within the session timeout, or a healthy leader would lose its lock.
  if (config.RISK_LEADER_SESSION_TIMEOUT_MS < 3 * config.RISK_LEADER_POLL_MS) {
    throw new ConfigError('risk', [
      'RISK_LEADER_SESSION_TIMEOUT_MS: must be at least 3 x RISK_LEADER_POLL_MS',
    ]);
  }
  return config;
}
