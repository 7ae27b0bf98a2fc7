import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { TradingState, type ApprovalRow } from '@desk/contracts';
import { readApproval } from '@desk/platform';

/**
 * What execution must know from the services that control it, read with SQL and never written
 * (docs/adr/0003): the desk's trading state and the venues enabled for live trading (risk.trading_state,
 * risk.venues, owned by risk) and the approvals that still count (gateway.approval_validity, owned by the
 * gateway).
 */
@Injectable()
export class ControlsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The trading state and why risk set it; HALTED when risk has recorded none (never place without knowing). */
  async tradingState(tx?: EntityManager): Promise<{ state: TradingState; reason: string }> {
    const rows: { state: TradingState; reason: string }[] = await (tx ?? this.db).query(
      `SELECT state, reason FROM risk.trading_state_v WHERE id = 1`,
    );
    return rows[0] ?? { state: TradingState.Halted, reason: 'risk has recorded no trading state' };
  }

  /** Whether two approvers enabled live trading on the venue (and nobody switched it off since). */
  async liveEnabled(tx: EntityManager, venue: string): Promise<boolean> {
    const rows: { live: boolean }[] = await tx.query(`SELECT live FROM risk.venues_v WHERE venue = $1`, [
      venue,
    ]);
    return rows[0]?.live === true;
  }

  approval(tx: EntityManager, approvalId: string): Promise<ApprovalRow | undefined> {
    return readApproval(tx, approvalId);
  }
}
