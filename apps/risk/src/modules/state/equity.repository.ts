import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { money, toWire, type Money } from '@desk/contracts';

/** risk.equity_peak (for the drawdown breaker) and risk.daily_equity (where each trading day began). */
@Injectable()
export class EquityRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * The equity recorded when `day` began, recording `equity` if this is the first look at the day. Inside a
   * decision's transaction (`tx`) it runs there: a transaction waiting on the book lock holds a pooled
   * connection, so its holder must not need a second one.
   */
  async dayStart(day: string, timeZone: string, equity: Money, tx?: EntityManager): Promise<Money> {
    const rows: { start_equity: string }[] = await (tx ?? this.db).query(
      `WITH ins AS (
         INSERT INTO risk.daily_equity (day, time_zone, start_equity) VALUES ($1, $2, $3)
         ON CONFLICT (day, time_zone) DO NOTHING RETURNING start_equity)
       SELECT start_equity::text FROM ins
       UNION ALL
       SELECT start_equity::text FROM risk.daily_equity WHERE day = $1 AND time_zone = $2`,
      [day, timeZone, toWire(equity)],
    );
    return money(rows[0]?.start_equity ?? toWire(equity));
  }

  /** Raises the peak to `equity` if higher (the first call records it) and returns the peak. */
  async updatePeak(equity: Money): Promise<Money> {
    const rows: { peak: string }[] = await this.db.query(
      `WITH up AS (
         INSERT INTO risk.equity_peak (id, peak, at) VALUES (1, $1, now())
         ON CONFLICT (id) DO UPDATE SET peak = EXCLUDED.peak, at = now()
          WHERE EXCLUDED.peak > risk.equity_peak.peak
         RETURNING peak)
       SELECT peak::text FROM up
       UNION ALL
       SELECT peak::text FROM risk.equity_peak WHERE id = 1 AND NOT EXISTS (SELECT 1 FROM up)`,
      [toWire(equity)],
    );
    return money(rows[0]?.peak ?? toWire(equity));
  }

  /** On resume the drawdown starts again from the equity of that moment (the next look records it). */
  async resetPeak(tx: EntityManager): Promise<void> {
    await tx.query(`DELETE FROM risk.equity_peak WHERE id = 1`);
  }
}
