import { money, type Money, type TradingState } from '@desk/contracts';

export type BreakerName = 'drawdown' | 'error_rate' | 'volatility';

export interface BreakerSettings {
  readonly name: BreakerName;
  /** Breached when the measured value is strictly above it. */
  readonly threshold: Money;
  /** Consecutive breaches before it trips. */
  readonly consecutive: number;
  readonly action: TradingState.Reducing | TradingState.Halted;
}

export interface Observation {
  /** False when the inputs had not changed since the last observation: nothing was counted. */
  readonly counted: boolean;
  readonly value: Money;
  readonly breached: boolean;
  /** Breaches in a row, this one included. */
  readonly consecutive: number;
  /** The value just reached 80 % of the threshold (raised once, until it falls back below). */
  readonly warn: boolean;
  /** Enough consecutive breaches: the breaker acts. */
  readonly trip: boolean;
}

/** A warning is raised at this share of the threshold. */
export const WARNING_SHARE = money('0.8');

/**
 * One circuit breaker's memory: how many breaches in a row, and whether the 80 % warning is raised. A
 * breach counts once per new input (a new market price, a new equity): the same stale price seen on many
 * timer ticks is one observation, so one bad tick cannot trip a breaker that needs several breaches.
 */
export class Breaker {
  private consecutive = 0;
  private warned = false;
  private lastKey: string | undefined;
  private last: Observation | undefined;

  constructor(readonly settings: BreakerSettings) {}

  get warningLevel(): Money {
    return this.settings.threshold.times(WARNING_SHARE);
  }

  /** `key` identifies the inputs (undefined: every observation counts, e.g. a time window). */
  observe(value: Money, key?: string): Observation {
    if (key !== undefined && key === this.lastKey && this.last)
      return { ...this.last, counted: false, warn: false };
    this.lastKey = key;
    const breached = value.gt(this.settings.threshold);
    this.consecutive = breached ? this.consecutive + 1 : 0;
    const warningZone = value.gte(this.warningLevel);
    const warn = warningZone && !this.warned;
    this.warned = warningZone;
    this.last = {
      counted: true,
      value,
      breached,
      consecutive: this.consecutive,
      warn,
      trip: this.consecutive >= this.settings.consecutive,
    };
    return this.last;
  }
}
