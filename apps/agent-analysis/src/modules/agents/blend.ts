import { Money, OrderSide, type MarketSpec } from '@desk/contracts';
import type { AgentName, Signal } from './agent';

export type Outcome =
  'intent' | 'below_threshold' | 'cooldown' | 'all_abstained' | 'disabled' | 'zero_quantity';

export interface DecisionInput {
  signals: readonly Signal[];
  weights: Readonly<Record<AgentName, Money>>;
  threshold: Money;
  maxNotional: Money;
  price: Money;
  market: MarketSpec;
  tradingEnabled: boolean;
  inCooldown: boolean;
}

export type Decision =
  | { outcome: 'intent'; blend: Money; side: OrderSide; quantity: Money }
  | { outcome: Exclude<Outcome, 'intent' | 'all_abstained'>; blend: Money }
  | { outcome: 'all_abstained'; blend: null };

/** Weighted mean of the convictions of the agents that did not abstain (and have a weight); null when none. */
export function blendConvictions(
  signals: readonly Signal[],
  weights: Readonly<Record<AgentName, Money>>,
): Money | null {
  let sum = new Money(0);
  let total = new Money(0);
  for (const s of signals) {
    if (s.conviction === null) continue;
    const w = weights[s.agent];
    sum = sum.plus(s.conviction.times(w));
    total = total.plus(w);
  }
  return total.isZero() ? null : sum.div(total).toDecimalPlaces(6);
}

/**
 * Whether to trade: an intent when the blend is strong enough, trading is on, the symbol is not cooling
 * down and the size is at least one quantity step. Size = max notional × |blend| / price, rounded down.
 */
export function decide(input: DecisionInput): Decision {
  const blend = blendConvictions(input.signals, input.weights);
  if (blend === null) return { outcome: 'all_abstained', blend: null };
  if (blend.abs().lt(input.threshold)) return { outcome: 'below_threshold', blend };
  if (!input.tradingEnabled) return { outcome: 'disabled', blend };
  if (input.inCooldown) return { outcome: 'cooldown', blend };
  const quantity = input.maxNotional
    .times(blend.abs())
    .div(input.price)
    .toDecimalPlaces(input.market.quantityPrecision, Money.ROUND_DOWN);
  if (quantity.isZero()) return { outcome: 'zero_quantity', blend };
  return { outcome: 'intent', blend, side: blend.isPositive() ? OrderSide.Buy : OrderSide.Sell, quantity };
}
