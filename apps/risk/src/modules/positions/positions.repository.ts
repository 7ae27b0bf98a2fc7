import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { toWire, type Money } from '@desk/contracts';

export interface FillDelta {
  fillId: string;
  intentId: string;
  symbol: string;
  /** Signed: a buy adds, a sell subtracts. */
  quantity: Money;
}

/** risk.positions, risk's own exposure view, and risk.applied_fills, the fills already counted in it. */
@Injectable()
export class PositionsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Applies a fill once: returns false (and changes nothing) when the fill id was already applied. */
  async applyFill(fill: FillDelta): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const applied: unknown[] = await tx.query(
        `INSERT INTO risk.applied_fills (fill_id, intent_id) VALUES ($1, $2)
         ON CONFLICT (fill_id) DO NOTHING RETURNING fill_id`,
        [fill.fillId, fill.intentId],
      );
      if (applied.length === 0) return false;
      await tx.query(
        `INSERT INTO risk.positions (symbol, quantity, updated_at) VALUES ($1, $2, now())
         ON CONFLICT (symbol) DO UPDATE
           SET quantity = risk.positions.quantity + EXCLUDED.quantity, updated_at = now()`,
        [fill.symbol, toWire(fill.quantity)],
      );
      return true;
    });
  }
}
