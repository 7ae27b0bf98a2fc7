import { Money, money, type MarketSpec } from '@desk/contracts';
import { HISTORY_CANDLES, type Candle, type CandlesBySymbol } from './candle';
import type { MarketFeed } from './market-feed';

export interface SimulatedFeedOptions {
  seed: number;
  markets: readonly MarketSpec[];
  /**
   * Time of the first pre-generated candle. Given: synthetic time, each step one interval later (a
   * reproducible run). Left out: the history ends now and each step's candle closes at the clock's time
   * (a live simulation, whose prices are as fresh as the step that made them).
   */
  start?: Date;
  /** The clock of a live simulation (default: the system clock). */
  clock?: () => Date;
  intervalMs?: number;
  history?: number;
}

type Regime = 'up' | 'down' | 'range' | 'volatile';
const REGIMES: readonly Regime[] = ['up', 'down', 'range', 'volatile'];

/** Per-candle drift and volatility of the log return in each regime (one-minute candles). */
const REGIME_PARAMS: Record<Regime, { drift: number; vol: number }> = {
  up: { drift: 0.0008, vol: 0.0015 },
  down: { drift: -0.0008, vol: 0.0015 },
  range: { drift: 0, vol: 0.0012 },
  volatile: { drift: 0, vol: 0.004 },
};

/**
 * Offline market data: a seeded geometric random walk per symbol, starting at the market's reference
 * price, switching between trending, ranging and volatile regimes every 20-80 candles. The same seed
 * always gives the same candles.
 */
export class SimulatedFeed implements MarketFeed {
  readonly kind = 'sim';
  private readonly walks: SymbolWalk[];
  private readonly history: number;
  private readonly clock: (() => Date) | undefined;

  constructor(options: SimulatedFeedOptions) {
    const interval = options.intervalMs ?? 60_000;
    this.history = options.history ?? HISTORY_CANDLES;
    this.clock = options.start ? undefined : (options.clock ?? (() => new Date()));
    const start =
      options.start ?? new Date((this.clock?.() ?? new Date()).getTime() - this.history * interval);
    this.walks = options.markets.map((m) => new SymbolWalk(m, options.seed, start.getTime(), interval));
    for (const walk of this.walks) for (let i = 0; i < this.history; i++) walk.step(this.history);
  }

  next(): Promise<CandlesBySymbol> {
    const out: CandlesBySymbol = new Map();
    const at = this.clock?.().getTime();
    for (const walk of this.walks) {
      walk.step(this.history, at);
      out.set(walk.market.symbol, [...walk.candles]);
    }
    return Promise.resolve(out);
  }
}

class SymbolWalk {
  readonly candles: Candle[] = [];
  private readonly random: () => number;
  private readonly tick: Money;
  private price: Money;
  private regime: Regime = 'range';
  private regimeLeft = 0;
  private anchor: Money;
  private time: number;

  constructor(
    readonly market: MarketSpec,
    seed: number,
    start: number,
    private readonly interval: number,
  ) {
    this.random = mulberry32(fnv1a(`${seed}:${market.symbol}`));
    this.tick = new Money(10).pow(-market.pricePrecision);
    this.price = money(market.referencePrice ?? '100').toDecimalPlaces(market.pricePrecision);
    this.anchor = this.price;
    this.time = start;
  }

  /** One candle; `closesAt` (a live simulation): it opens and closes at that time. */
  step(keep: number, closesAt?: number): void {
    if (this.regimeLeft === 0) {
      this.regime = REGIMES[Math.floor(this.random() * REGIMES.length)] ?? 'range';
      this.regimeLeft = 20 + Math.floor(this.random() * 61);
      this.anchor = this.price;
    }
    this.regimeLeft--;
    const { vol } = REGIME_PARAMS[this.regime];
    // A range pulls the price back towards where the range started.
    const drift =
      this.regime === 'range'
        ? -0.1 * Money.ln(this.price.div(this.anchor)).toNumber()
        : REGIME_PARAMS[this.regime].drift;
    const r = drift + vol * gaussian(this.random);
    const p = this.market.pricePrecision;
    const open = this.price;
    const close = Money.max(this.tick, open.times(Money.exp(r)).toDecimalPlaces(p));
    const high = Money.max(open, close)
      .times(1 + Math.abs(gaussian(this.random)) * vol * 0.5)
      .toDecimalPlaces(p);
    const low = Money.max(
      this.tick,
      Money.min(open, close)
        .times(1 - Math.abs(gaussian(this.random)) * vol * 0.5)
        .toDecimalPlaces(p),
    );
    // Roughly 100k of quote currency traded per candle.
    const volume = new Money(100_000)
      .times(0.5 + this.random())
      .div(close)
      .toDecimalPlaces(this.market.quantityPrecision);
    // A live step never goes back in time, even if the clock does.
    const time = closesAt === undefined ? this.time : Math.max(closesAt, this.time);
    const closedAt = closesAt === undefined ? time + this.interval : time;
    this.candles.push({ time: new Date(time), closedAt: new Date(closedAt), open, high, low, close, volume });
    if (this.candles.length > keep) this.candles.shift();
    this.price = close;
    this.time = closedAt;
  }
}

/** Small, fast, seedable PRNG (uniform in [0, 1)). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Standard normal sample (Box-Muller). */
function gaussian(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
