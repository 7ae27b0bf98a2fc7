import { describe, expect, it } from '@jest/globals';
import { money } from '@desk/contracts';
import { MARKET_PRICE_CLOCK_SKEW_MS, marketPriceProblem } from './market-price';

const now = new Date('2026-06-01T12:00:00.000Z');
const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);

describe('marketPriceProblem', () => {
  it('lets a positive price of now or of the past through (its age is the reader’s to judge)', () => {
    expect(marketPriceProblem({ price: money('65000'), at: now }, now)).toBeUndefined();
    expect(marketPriceProblem({ price: money('0.0001'), at: at(-86_400_000) }, now)).toBeUndefined();
  });

  it('refuses zero, negative and non-finite prices', () => {
    expect(marketPriceProblem({ price: money('0'), at: now }, now)).toBe('price 0 is not positive');
    expect(marketPriceProblem({ price: money('-1'), at: now }, now)).toBe('price -1 is not positive');
    expect(marketPriceProblem({ price: money('NaN'), at: now }, now)).toMatch(/not a finite number/);
    expect(marketPriceProblem({ price: money('Infinity'), at: now }, now)).toMatch(/not a finite number/);
  });

  it('refuses a price dated beyond the clock-skew allowance, and one without a valid time', () => {
    const price = money('65000');
    expect(marketPriceProblem({ price, at: at(MARKET_PRICE_CLOCK_SKEW_MS) }, now)).toBeUndefined();
    expect(marketPriceProblem({ price, at: at(MARKET_PRICE_CLOCK_SKEW_MS + 1) }, now)).toMatch(
      /is 5001 ms in the future/,
    );
    expect(marketPriceProblem({ price, at: new Date(NaN) }, now)).toBe('the price carries no valid time');
  });
});
