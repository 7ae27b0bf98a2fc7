import { TradingState, type Money } from '@desk/contracts';
import { deskCounter, deskGauge } from '@desk/platform';
import type { Book } from '../state/book';

/**
 * Risk's metrics (docs/operations.md). Money-like values are floats here by Prometheus' nature: converted
 * from the decimal library only at this boundary, and never read back.
 */
const decisions = () =>
  deskCounter('desk_risk_decisions_total', 'Risk decisions by outcome and reason code', [
    'decision',
    'reason',
  ]);

/** One decision recorded (after its transaction committed): ACCEPTED, PENDING_APPROVAL or REJECTED. */
export function countDecision(decision: string, reasonCode: string | null): void {
  decisions().inc({ decision, reason: reasonCode ?? 'NONE' });
}

const tradingState = () =>
  deskGauge(
    'desk_risk_trading_state',
    'The trading state (1 for the current one: ACTIVE, REDUCING, HALTED)',
    ['state'],
  );
const equity = () => deskGauge('desk_risk_equity', 'Equity (quote currency) at the last prices');
const peakEquity = () =>
  deskGauge('desk_risk_peak_equity', 'Peak equity (quote currency) the drawdown is measured from');
const drawdown = () => deskGauge('desk_risk_drawdown_ratio', 'Drawdown from peak equity (fraction)');
const dayPnl = () =>
  deskGauge('desk_risk_day_pnl', 'Equity change since the start of the trading day (quote currency)');
const grossExposure = () =>
  deskGauge('desk_risk_gross_exposure', 'Gross exposure: sum over symbols of |position| x last price');
const positionNotional = () =>
  deskGauge('desk_risk_position_notional', 'Signed position value per symbol (quantity x last price)', [
    'symbol',
  ]);
const breakerValue = () =>
  deskGauge('desk_risk_breaker_value', 'The value each breaker last measured (fraction)', ['breaker']);
const breakerThreshold = () =>
  deskGauge('desk_risk_breaker_threshold', 'The value over which each breaker counts a breach', ['breaker']);
const breakerWarnings = () =>
  deskCounter('desk_risk_breaker_warnings_total', 'Breaker warnings (80 % of the threshold reached)', [
    'breaker',
  ]);
const breakerTrips = () =>
  deskCounter('desk_risk_breaker_trips_total', 'Breakers that tripped and changed the trading state', [
    'breaker',
  ]);

const num = (value: Money): number => value.toNumber();

/** What the monitor saw on its last tick (only the leader instance ticks). */
export function recordTick(state: TradingState, book: Book, peak: Money, dd: Money): void {
  for (const s of Object.values(TradingState)) tradingState().set({ state: s }, s === state ? 1 : 0);
  equity().set(num(book.equity));
  peakEquity().set(num(peak));
  drawdown().set(num(dd));
  dayPnl().set(num(book.equity.minus(book.dayStartEquity)));
  let gross = 0;
  for (const [symbol, s] of book.symbols) {
    const value = s.mark ? num(s.position.quantity.times(s.mark)) : 0;
    positionNotional().set({ symbol }, value);
    gross += Math.abs(value);
  }
  grossExposure().set(gross);
}

export function recordBreaker(breaker: string, value: Money, threshold: Money): void {
  breakerValue().set({ breaker }, num(value));
  breakerThreshold().set({ breaker }, num(threshold));
  // Counters start at 0 for every breaker, so rate() and increase() see the first one.
  breakerWarnings().inc({ breaker }, 0);
  breakerTrips().inc({ breaker }, 0);
}

export const countBreakerWarning = (breaker: string): void => breakerWarnings().inc({ breaker });
export const countBreakerTrip = (breaker: string): void => breakerTrips().inc({ breaker });
