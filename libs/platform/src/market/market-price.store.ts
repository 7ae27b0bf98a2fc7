import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { money, toWire, type Money } from '@desk/contracts';
import { REDIS_CLIENT, REDIS_PREFIX } from '../queue/redis.module';

export interface MarketPrice {
  symbol: string;
  price: Money;
  at: Date;
}

/**
 * The last market price of each symbol, written by agent-analysis (the owner of market data) and read by
 * risk, execution and the gateway. A Redis hash `<prefix>:market:last`: symbol → "price|epochMillis".
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

  async publish(prices: readonly MarketPrice[]): Promise<void> {
    if (prices.length === 0) return;
    const fields: Record<string, string> = {};
    for (const p of prices) fields[p.symbol] = `${toWire(p.price)}|${p.at.getTime()}`;
    await this.redis.hset(this.key, fields);
  }

  async get(symbol: string): Promise<MarketPrice | undefined> {
    const raw = await this.redis.hget(this.key, symbol);
    return raw ? parse(symbol, raw) : undefined;
  }

  async getAll(): Promise<Map<string, MarketPrice>> {
    const all = await this.redis.hgetall(this.key);
    const out = new Map<string, MarketPrice>();
    for (const [symbol, raw] of Object.entries(all)) {
      const p = parse(symbol, raw);
      if (p) out.set(symbol, p);
    }
    return out;
  }
}

function parse(symbol: string, raw: string): MarketPrice | undefined {
  const [price, at] = raw.split('|');
  if (!price || !at || !/^\d+(\.\d+)?$/.test(price) || !/^\d+$/.test(at)) return undefined;
  return { symbol, price: money(price), at: new Date(Number(at)) };
}
