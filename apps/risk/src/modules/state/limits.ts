import { money, toWire, type Money } from '@desk/contracts';
import type { RiskConfig } from '../../config';

/**
 * The numeric limits in risk.limits, one row each. For EVERY limit a higher value means more risk: the
 * gateway relies on that to decide whether a change needs two approvers. Never rename a value.
 */
export enum LimitName {
  /** Largest notional of one order, quote currency. */
  MaxOrderNotional = 'max_order_notional',
  /** Largest position in one symbol as a fraction of equity (0.25 = a quarter). */
  MaxPositionShare = 'max_position_share',
  /** Largest gross exposure, quote currency. */
  MaxGrossExposure = 'max_gross_exposure',
  /** Loss since the start of the day (realized plus unrealized, positive number) at which new risk stops. */
  DailyLossLimit = 'daily_loss_limit',
  MaxOrdersPerDay = 'max_orders_per_day',
  /** Orders per minute in one symbol. */
  MaxSubmitRatePerSymbol = 'max_submit_rate_per_symbol',
  /** Orders per minute in all symbols. */
  MaxSubmitRateTotal = 'max_submit_rate_total',
  /** Fat-finger band as a fraction of the last market price (0.05 = 5 %). */
  PriceBand = 'price_band',
  /** Orders of one trader (actor) that are not final yet: held for approval, or accepted and still open. */
  MaxOpenOrders = 'max_open_orders',
}

export const LIMIT_NAMES: readonly LimitName[] = Object.values(LimitName);

/** Counts: a fractional value makes no sense for them. */
const INTEGER_LIMITS: ReadonlySet<LimitName> = new Set([
  LimitName.MaxOrdersPerDay,
  LimitName.MaxSubmitRatePerSymbol,
  LimitName.MaxSubmitRateTotal,
  LimitName.MaxOpenOrders,
]);

export type RiskLimitValues = Readonly<Record<LimitName, Money>>;

export function isLimitName(name: string): name is LimitName {
  return (LIMIT_NAMES as readonly string[]).includes(name);
}

/** The initial values from the environment (applied at boot until someone changes a limit). */
export function limitsFromConfig(config: RiskConfig): RiskLimitValues {
  return {
    [LimitName.MaxOrderNotional]: money(config.RISK_MAX_ORDER_NOTIONAL),
    [LimitName.MaxPositionShare]: money(config.RISK_MAX_POSITION_SHARE),
    [LimitName.MaxGrossExposure]: money(config.RISK_MAX_GROSS_EXPOSURE),
    [LimitName.DailyLossLimit]: money(config.RISK_DAILY_LOSS_LIMIT),
    [LimitName.MaxOrdersPerDay]: money(String(config.RISK_MAX_ORDERS_PER_DAY)),
    [LimitName.MaxSubmitRatePerSymbol]: money(String(config.RISK_MAX_SUBMIT_RATE_PER_SYMBOL)),
    [LimitName.MaxSubmitRateTotal]: money(String(config.RISK_MAX_SUBMIT_RATE_TOTAL)),
    [LimitName.PriceBand]: money(config.RISK_PRICE_BAND),
    [LimitName.MaxOpenOrders]: money(String(config.RISK_MAX_OPEN_ORDERS)),
  };
}

export interface LimitChange {
  readonly name: LimitName;
  readonly from: Money;
  readonly to: Money;
}

export type LimitChangeCheck =
  | { readonly ok: true; readonly changes: readonly LimitChange[] }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Validates a requested change (decimal strings by name) against the current values: unknown names and
 * fractional counts are refused. Values that do not change are left out of `changes`.
 */
export function checkLimitChange(
  current: RiskLimitValues,
  requested: Readonly<Record<string, string>>,
): LimitChangeCheck {
  const problems: string[] = [];
  const changes: LimitChange[] = [];
  const names = Object.keys(requested);
  if (names.length === 0) problems.push('no limits given');
  for (const name of names.sort()) {
    const raw = requested[name] ?? '';
    if (!isLimitName(name)) {
      problems.push(`unknown limit "${name}" (known: ${LIMIT_NAMES.join(', ')})`);
      continue;
    }
    const to = money(raw);
    if (INTEGER_LIMITS.has(name) && !to.isInteger()) {
      problems.push(`${name} counts orders: ${raw} is not a whole number`);
      continue;
    }
    const from = current[name];
    if (!from.eq(to)) changes.push({ name, from, to });
  }
  return problems.length ? { ok: false, problems } : { ok: true, changes };
}

/** The changes that raise risk (every limit: higher is riskier). */
export function raises(changes: readonly LimitChange[]): LimitChange[] {
  return changes.filter((c) => c.to.gt(c.from));
}

/** Decimal strings by name, for audit payloads. */
export function changesPayload(
  changes: readonly LimitChange[],
): Record<string, { from: string; to: string }> {
  return Object.fromEntries(changes.map((c) => [c.name, { from: toWire(c.from), to: toWire(c.to) }]));
}
