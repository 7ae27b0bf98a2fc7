import { describe, expect, it } from '@jest/globals';
import { money, toWire } from '@desk/contracts';
import { PriceHistory, nthLargestMove } from './price-history';

const T0 = Date.parse('2025-01-01T12:00:00.000Z');

function at(history: PriceHistory, ms: number, prices: Record<string, string>) {
  history.record(
    Object.entries(prices).map(([symbol, price]) => ({ symbol, price: money(price), at: new Date(T0 + ms) })),
  );
}

function moves(history: PriceHistory): Record<string, string> {
  return Object.fromEntries(history.moves().map((m) => [m.symbol, toWire(m.move)]));
}

describe('price history for the volatility breaker', () => {
  it('measures the latest price against the price one window earlier', () => {
    const h = new PriceHistory(60_000);
    at(h, 0, { 'BTC/USDT': '100' });
    at(h, 30_000, { 'BTC/USDT': '103' });
    at(h, 60_000, { 'BTC/USDT': '105' });
    at(h, 90_000, { 'BTC/USDT': '110' });
    // 90 s: the reference is the last price at or before 30 s (103).
    expect(toWire(h.moves()[0]!.from)).toBe('103');
    expect(moves(h)).toEqual({ 'BTC/USDT': toWire(money('7').dividedBy('103')) });
  });

  it('uses the oldest price while the history is shorter than the window', () => {
    const h = new PriceHistory(60_000);
    at(h, 0, { 'ETH/USDT': '3000' });
    at(h, 5_000, { 'ETH/USDT': '2850' });
    expect(moves(h)).toEqual({ 'ETH/USDT': '0.05' });
  });

  it('moves for one sample only on a single outlier', () => {
    const h = new PriceHistory(60_000);
    at(h, 0, { 'BTC/USDT': '100' });
    at(h, 1_000, { 'BTC/USDT': '150' });
    expect(moves(h)).toEqual({ 'BTC/USDT': '0.5' });
    at(h, 2_000, { 'BTC/USDT': '100' });
    expect(moves(h)).toEqual({ 'BTC/USDT': '0' });
  });

  it('ignores a price seen again with the same timestamp', () => {
    const h = new PriceHistory(60_000);
    at(h, 0, { 'BTC/USDT': '100' });
    at(h, 0, { 'BTC/USDT': '100' });
    expect(h.moves()).toEqual([]);
  });

  it('needs the n-th largest move to breach, so two symbols must move at once', () => {
    const h = new PriceHistory(60_000);
    at(h, 0, { 'BTC/USDT': '100', 'ETH/USDT': '100', 'SOL/USDT': '100' });
    at(h, 1_000, { 'BTC/USDT': '120', 'ETH/USDT': '103', 'SOL/USDT': '99' });
    expect(toWire(nthLargestMove(h.moves(), 1))).toBe('0.2');
    expect(toWire(nthLargestMove(h.moves(), 2))).toBe('0.03');
    expect(toWire(nthLargestMove(h.moves(), 4))).toBe('0');
  });
});
