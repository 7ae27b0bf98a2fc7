import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { MarketSpec } from '@desk/contracts';

interface MarketRow {
  symbol: string;
  base: string;
  quote: string;
  tick_size: string;
  step_size: string;
  min_quantity: string;
  min_notional: string | null;
  price_precision: number;
  quantity_precision: number;
}

/**
 * execution.markets: the catalog of the venue execution trades, which the gateway and risk validate orders
 * against (through execution.market_catalog). Only the traded venue's markets are kept.
 */
@Injectable()
export class VenueMarketsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async read(venue: string): Promise<MarketSpec[]> {
    const rows: MarketRow[] = await this.db.query(
      `SELECT symbol, base, quote, tick_size::text, step_size::text, min_quantity::text, min_notional::text,
              price_precision, quantity_precision
         FROM execution.markets WHERE venue = $1 ORDER BY symbol`,
      [venue],
    );
    return rows.map((r) => ({
      symbol: r.symbol,
      base: r.base,
      quote: r.quote,
      tickSize: r.tick_size,
      stepSize: r.step_size,
      minQuantity: r.min_quantity,
      minNotional: r.min_notional,
      pricePrecision: r.price_precision,
      quantityPrecision: r.quantity_precision,
    }));
  }

  /** Replaces the catalog with this venue's markets, in one transaction (readers never see half of it). */
  async replace(
    venue: string,
    markets: readonly MarketSpec[],
    also: (tx: EntityManager) => Promise<void>,
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      await also(tx);
      await tx.query(`DELETE FROM execution.markets`);
      for (const m of markets) {
        await tx.query(
          `INSERT INTO execution.markets (venue, symbol, base, quote, tick_size, step_size, min_quantity,
             min_notional, price_precision, quantity_precision)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [
            venue,
            m.symbol,
            m.base,
            m.quote,
            m.tickSize,
            m.stepSize,
            m.minQuantity,
            m.minNotional,
            m.pricePrecision,
            m.quantityPrecision,
          ],
        );
      }
    });
  }
}
