import { describe, expect, it } from '@jest/globals';
import { money } from '@desk/contracts';
import type { Candle } from '../market-feed/candle';
import type { Signal } from './agent';
import { MeanReversionAgent } from './mean-reversion.agent';
import { TrendAgent } from './trend.agent';
import { VolatilityAgent } from './volatility.agent';

/** Candles from a close series: each opens at the previous close, with a 0.1% wick on both sides. */
function candles(closes: number[]): Candle[] {
  return closes.map((close, i) => {
    const open = i === 0 ? close : closes[i - 1]!;
    const wick = close * 0.001;
    return {
      time: new Date(Date.UTC(2024, 0, 1) + i * 60_000),
      closedAt: new Date(Date.UTC(2024, 0, 1) + (i + 1) * 60_000),
      open: money(open.toFixed(2)),
      high: money((Math.max(open, close) + wick).toFixed(2)),
      low: money((Math.min(open, close) - wick).toFixed(2)),
      close: money(close.toFixed(2)),
      volume: money('1'),
    };
  });
}

const ramp = (n: number, from: number, step: number) => Array.from({ length: n }, (_, i) => from + i * step);
/** A sideways market: a small deterministic wiggle around `level`. */
const sideways = (n: number, level: number, amplitude = 0.5) =>
  Array.from(
    { length: n },
    (_, i) => level + amplitude * Math.sin(i * 1.7) + amplitude * 0.5 * Math.cos(i * 0.9),
  );

function conviction(s: Signal): number {
  return s.conviction === null ? 0 : s.conviction.toNumber();
}

describe('TrendAgent', () => {
  const agent = new TrendAgent();

  it('goes long in a steady uptrend, with the EMAs in the rationale', () => {
    const s = agent.evaluate(candles(ramp(100, 100, 0.5)));
    expect(s.direction).toBe('long');
    expect(conviction(s)).toBeGreaterThan(0.5);
    expect(conviction(s)).toBeLessThanOrEqual(1);
    expect(s.rationale).toMatch(/uptrend: EMA\(12\)=[\d.]+ EMA\(26\)=[\d.]+ ATR\(14\)=[\d.]+/);
  });

  it('goes short in a steady downtrend', () => {
    const s = agent.evaluate(candles(ramp(100, 200, -0.5)));
    expect(s.direction).toBe('short');
    expect(conviction(s)).toBeLessThan(-0.5);
  });

  it('is only mildly convinced in a sideways market', () => {
    expect(Math.abs(conviction(agent.evaluate(candles(sideways(100, 100)))))).toBeLessThan(0.3);
  });

  it('abstains without enough candles or on a market that does not move', () => {
    expect(agent.evaluate(candles(ramp(20, 100, 1)))).toMatchObject({
      direction: 'abstain',
      conviction: null,
    });
    const flat = ramp(60, 100, 0).map((close, i) => ({
      ...candles([close])[0]!,
      time: new Date(i * 60_000),
      high: money('100'),
      low: money('100'),
    }));
    expect(agent.evaluate(flat)).toMatchObject({
      direction: 'abstain',
      rationale: expect.stringMatching(/does not move/),
    });
  });
});

describe('MeanReversionAgent', () => {
  const agent = new MeanReversionAgent();

  it('goes short after a sharp rally (overbought)', () => {
    const s = agent.evaluate(candles([...sideways(60, 100), ...ramp(8, 102, 2)]));
    expect(s.direction).toBe('short');
    expect(conviction(s)).toBeLessThan(-0.5);
    expect(s.rationale).toMatch(/overbought.*BB\(20,2\)=.*RSI\(14\)=\d/);
  });

  it('goes long after a sharp sell-off (oversold)', () => {
    const s = agent.evaluate(candles([...sideways(60, 100), ...ramp(8, 98, -2)]));
    expect(s.direction).toBe('long');
    expect(conviction(s)).toBeGreaterThan(0.5);
  });

  it('abstains when the price is not stretched, or without enough candles', () => {
    expect(agent.evaluate(candles(sideways(60, 100))).direction).toBe('abstain');
    expect(agent.evaluate(candles(ramp(10, 100, 1))).rationale).toMatch(/not enough candles/);
  });
});

describe('VolatilityAgent', () => {
  const agent = new VolatilityAgent();

  it('follows an upside breakout when volatility expands', () => {
    const s = agent.evaluate(candles([...sideways(100, 100), 101, 100.4, 101.6, 101, 102.2, 101.6, 102.8]));
    expect(s.direction).toBe('long');
    expect(conviction(s)).toBeGreaterThan(0.3);
    expect(s.rationale).toMatch(
      /expanding, upside breakout: bandwidth=[\d.]+ median\(50\)=[\d.]+ expansion=[\d.]+/,
    );
  });

  it('follows a downside breakout', () => {
    const s = agent.evaluate(candles([...sideways(100, 100), 99, 99.6, 98.4, 99, 97.8, 98.4, 97.2]));
    expect(s.direction).toBe('short');
    expect(conviction(s)).toBeLessThan(-0.3);
  });

  it('abstains in ordinary volatility and stands aside when it is extreme', () => {
    expect(agent.evaluate(candles(sideways(120, 100))).rationale).toMatch(/^normal volatility/);
    const crash = agent.evaluate(candles([...sideways(100, 100, 0.05), 80, 110, 75, 115]));
    expect(crash).toMatchObject({
      direction: 'abstain',
      rationale: expect.stringMatching(/^extreme volatility/),
    });
    expect(agent.evaluate(candles(sideways(60, 100))).rationale).toMatch(/not enough candles/);
  });
});
