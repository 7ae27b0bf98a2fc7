import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { money, toWire } from '@desk/contracts';
import { REDIS_CLIENT, REDIS_PREFIX } from '../queue/redis.module';
import { MARKET_PRICE_CLOCK_SKEW_MS, marketPriceProblem, type MarketPrice } from './market-price';

export { MARKET_PRICE_CLOCK_SKEW_MS, marketPriceProblem, type MarketPrice } from './market-price';

/** What the store holds for a symbol: a price that may be used, or why the stored one may not. */
export type MarketPriceReading =
  | { readonly ok: true; readonly price: MarketPrice }
  | { readonly ok: false; readonly symbol: string; readonly problem: string };

/** A price that must not be published (zero, negative, non-finite, dated in the future). */
export class InvalidMarketPriceError extends Error {
  override readonly name = 'InvalidMarketPriceError';
}

/**
 * Sets each symbol's price unless the stored one is newer (KEYS[1] the hash; ARGV[1] the latest time a stored
 * price may have, now plus the clock skew; then symbol, "price|millis", millis, …): a late or replayed older
 * candle never overwrites a newer price, and a stored price dated in the future (forged: it would hold every
 * update back) or malformed is replaced. Atomic, so two publishers cannot interleave.
 */
const PUBLISH_NEWER = `
local latest = tonumber(ARGV[1])
for i = 2, #ARGV, 3 do
  local stored = redis.call('HGET', KEYS[1], ARGV[i])
  local at = stored and tonumber(string.match(stored, '|(%-?%d+)$'))
  if not at or at > latest or at <= tonumber(ARGV[i + 2]) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 0`;

/**
 * The last market price of each symbol, written by agent-analysis (the owner of market data) and read by
 * risk, execution and the gateway. A Redis hash `<prefix>:market:last`: symbol → "price|epochMillis", the
 * time being the venue's (the candle's), so a reader judges staleness on when the market traded there.
 *
 * Redis is not a trust boundary: what is published is checked (marketPriceProblem), and what is read is
 * checked again. `get` and `getAll` return only prices that may be used; `read` also says why a stored
 * price may not (risk rejects an order with that reason rather than as "no price").
 */
@Injectable()
export class MarketPriceStore {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    @Inject(REDIS_PREFIX) private readonly prefix: string,
  ) {}

  private get key(): string {
    return `${this.prefix}:market:last`;
  }

  /**
   * Writes every price, or none: one unusable price refuses the call (InvalidMarketPriceError). A symbol whose
   * stored price is newer keeps it.
   */
  async publish(prices: readonly MarketPrice[], now = new Date()): Promise<void> {
    if (prices.length === 0) return;
    const problems = prices.flatMap((p) => {
      const problem = marketPriceProblem(p, now);
      return problem ? [`${p.symbol}: ${problem}`] : [];
    });
    if (problems.length) throw new InvalidMarketPriceError(`refused market prices: ${problems.join('; ')}`);
    const args = prices.flatMap((p) => [
      p.symbol,
      `${toWire(p.price)}|${p.at.getTime()}`,
      String(p.at.getTime()),
    ]);
    await this.redis.eval(
      PUBLISH_NEWER,
      1,
      this.key,
      String(now.getTime() + MARKET_PRICE_CLOCK_SKEW_MS),
      ...args,
    );
  }

  /** The symbol's last price, or why it may not be used; undefined when there is none. */
  async read(symbol: string, now = new Date()): Promise<MarketPriceReading | undefined> {
    const raw = await this.redis.hget(this.key, symbol);
    return raw === null ? undefined : judge(symbol, raw, now);
  }

  /** The symbol's last price if it may be used (its age is the caller's to judge). */
  async get(symbol: string, now = new Date()): Promise<MarketPrice | undefined> {
    const reading = await this.read(symbol, now);
    return reading?.ok ? reading.price : undefined;
  }

  /** Every symbol's last price, or why it may not be used. */
  async readAll(now = new Date()): Promise<Map<string, MarketPriceReading>> {
    const all = await this.redis.hgetall(this.key);
    return new Map(Object.entries(all).map(([symbol, raw]) => [symbol, judge(symbol, raw, now)]));
  }

  /** Every symbol's last price that may be used. */
  async getAll(now = new Date()): Promise<Map<string, MarketPrice>> {
    const all = await this.redis.hgetall(this.key);
    const out = new Map<string, MarketPrice>();
    for (const [symbol, raw] of Object.entries(all)) {
      const reading = judge(symbol, raw, now);
      if (reading.ok) out.set(symbol, reading.price);
    }
    return out;
  }
}

function judge(symbol: string, raw: string, now: Date): MarketPriceReading {
  const [price, at, extra] = raw.split('|');
  if (
    price === undefined ||
    at === undefined ||
    extra !== undefined ||
    !/^-?\d+(\.\d+)?$/.test(price) ||
    !/^-?\d{1,15}$/.test(at)
  ) {
    return { ok: false, symbol, problem: `malformed stored price "${raw.slice(0, 60)}"` };
  }
  const parsed: MarketPrice = { symbol, price: money(price), at: new Date(Number(at)) };
  const problem = marketPriceProblem(parsed, now);
  return problem ? { ok: false, symbol, problem } : { ok: true, price: parsed };
}
