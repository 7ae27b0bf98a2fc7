import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { money, toWire } from '@desk/contracts';
import type { LimitView, TradingStateView, VenueView } from './risk-control.dto';

/** Reads risk's trading state, limits and live venues (risk owns and writes them; docs/adr/0003). */
@Injectable()
export class RiskStateQueryRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async tradingState(): Promise<TradingStateView | undefined> {
    const rows: {
      state: string;
      reason: string;
      set_by_type: string;
      set_by_id: string;
      set_by_key_id: string | null;
      source: string;
      set_at: Date;
      version: string;
    }[] = await this.db.query(
      `SELECT state, reason, set_by_type, set_by_id, set_by_key_id, source, set_at, version::text
         FROM risk.trading_state_v WHERE id = 1`,
    );
    const r = rows[0];
    return r
      ? {
          state: r.state,
          reason: r.reason,
          setBy: { type: r.set_by_type, id: r.set_by_id, keyId: r.set_by_key_id },
          source: r.source,
          setAt: r.set_at.toISOString(),
          version: r.version,
        }
      : undefined;
  }

  /** The limits' version (their highest revision): a limit raise is bound to it. */
  async limitsVersion(): Promise<string> {
    const rows: { version: string }[] = await this.db.query(
      `SELECT COALESCE(max(revision), 0)::text AS version FROM risk.limits_v`,
    );
    return rows[0]?.version ?? '0';
  }

  async limits(): Promise<LimitView[]> {
    const rows: { name: string; value: string; updated_at: Date; updated_by: string }[] = await this.db.query(
      `SELECT name, value::text, updated_at, updated_by FROM risk.limits_v ORDER BY name`,
    );
    return rows.map((r) => ({
      name: r.name,
      value: toWire(money(r.value)),
      updatedAt: r.updated_at.toISOString(),
      updatedBy: r.updated_by,
    }));
  }

  async venues(): Promise<VenueView[]> {
    const rows: {
      venue: string;
      live: boolean;
      approval_id: string | null;
      reason: string;
      set_by_type: string;
      set_by_id: string;
      set_by_key_id: string | null;
      set_at: Date;
    }[] = await this.db.query(
      `SELECT venue, live, approval_id, reason, set_by_type, set_by_id, set_by_key_id, set_at
         FROM risk.venues_v ORDER BY venue`,
    );
    return rows.map((r) => ({
      venue: r.venue,
      live: r.live,
      approvalId: r.approval_id,
      reason: r.reason,
      setBy: { type: r.set_by_type, id: r.set_by_id, keyId: r.set_by_key_id },
      setAt: r.set_at.toISOString(),
    }));
  }
}
