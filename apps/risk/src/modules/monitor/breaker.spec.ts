import { describe, expect, it } from '@jest/globals';
import { TradingState, money } from '@desk/contracts';
import { Breaker } from './breaker';

function drawdown(consecutive = 3) {
  return new Breaker({ name: 'drawdown', threshold: money('0.1'), consecutive, action: TradingState.Halted });
}

/** Feeds values (each a new input) and returns what the breaker said each time. */
function feed(b: Breaker, values: string[]) {
  return values.map((v, i) => {
    const o = b.observe(money(v), `tick-${i}`);
    return { breached: o.breached, consecutive: o.consecutive, warn: o.warn, trip: o.trip };
  });
}

describe('circuit breaker', () => {
  it('trips only after the configured number of consecutive breaches', () => {
    expect(feed(drawdown(), ['0.11', '0.12', '0.13']).map((o) => o.trip)).toEqual([false, false, true]);
  });

  it('does not trip on a single outlier that needs three breaches: a normal value resets the count', () => {
    const b = drawdown();
    expect(feed(b, ['0.02', '0.5', '0.02', '0.5', '0.03', '0.5'])).toEqual([
      { breached: false, consecutive: 0, warn: false, trip: false },
      { breached: true, consecutive: 1, warn: true, trip: false },
      { breached: false, consecutive: 0, warn: false, trip: false },
      { breached: true, consecutive: 1, warn: true, trip: false },
      { breached: false, consecutive: 0, warn: false, trip: false },
      { breached: true, consecutive: 1, warn: true, trip: false },
    ]);
  });

  it('counts a stale input once, however many timer ticks see it', () => {
    const b = drawdown();
    b.observe(money('0.5'), 'price@1');
    const again = b.observe(money('0.5'), 'price@1');
    expect(again).toMatchObject({ counted: false, consecutive: 1, trip: false });
    expect(b.observe(money('0.5'), 'price@1')).toMatchObject({ counted: false, consecutive: 1 });
    expect(b.observe(money('0.5'), 'price@2')).toMatchObject({ counted: true, consecutive: 2 });
  });

  it('counts every observation when it has no input key (a time window)', () => {
    const b = drawdown(2);
    b.observe(money('0.5'));
    expect(b.observe(money('0.5'))).toMatchObject({ counted: true, consecutive: 2, trip: true });
  });

  it('breaches strictly above the threshold only', () => {
    expect(feed(drawdown(1), ['0.1'])[0]).toMatchObject({ breached: false, trip: false });
  });

  it('warns once on reaching 80 % of the threshold, and again only after falling back below it', () => {
    const b = drawdown();
    expect(feed(b, ['0.079', '0.08', '0.09', '0.095', '0.05', '0.085']).map((o) => o.warn)).toEqual([
      false,
      true,
      false,
      false,
      false,
      true,
    ]);
    expect(b.warningLevel.toFixed()).toBe('0.08');
  });
});
