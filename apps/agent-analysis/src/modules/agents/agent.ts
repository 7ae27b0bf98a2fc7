import { Money } from '@desk/contracts';
import type { Candle } from '../market-feed/candle';

export const AGENT_NAMES = ['trend', 'mean-reversion', 'volatility'] as const;
export type AgentName = (typeof AGENT_NAMES)[number];

export type Direction = 'long' | 'short';

/** What one agent thinks of one symbol: a direction with a conviction in [-1, 1] (sign = direction), or an abstention. */
export type Signal =
  | { agent: AgentName; direction: Direction; conviction: Money; rationale: string }
  | { agent: AgentName; direction: 'abstain'; conviction: null; rationale: string };

export interface Agent {
  readonly name: AgentName;
  /** Candles oldest first; the last one is the current market. */
  evaluate(candles: readonly Candle[]): Signal;
}

export function abstain(agent: AgentName, rationale: string): Signal {
  return { agent, direction: 'abstain', conviction: null, rationale };
}

/** A conviction from an indicator-derived score: clamped to [-1, 1], 4 decimals; zero means no opinion. */
export function convinced(agent: AgentName, score: number, rationale: string): Signal {
  const conviction = Money.min(1, Money.max(-1, new Money(score.toFixed(4))));
  if (conviction.isZero()) return abstain(agent, `${rationale}; no edge`);
  return { agent, direction: conviction.isPositive() ? 'long' : 'short', conviction, rationale };
}

/** Indicator values in rationales: a few significant digits are enough for a human. */
export function fmt(value: number): string {
  return Number(value.toPrecision(6)).toString();
}
