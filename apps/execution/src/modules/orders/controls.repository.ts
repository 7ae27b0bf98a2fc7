import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { TradingState } from '@desk/contracts';
import type { ApprovalRow } from './order-guard';

/**
 * What execution must know from the services that control it, read with SQL and never written
 * (docs/adr/0003): the desk's trading state (risk.trading_state, owned by risk) and the approvals that
 * still count (gateway.approval_validity, owned by the gateway).
 */
@Injectable()
export class ControlsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The trading state; HALTED when risk has recorded none (never place without knowing). */
  async tradingState(tx?: EntityManager): Promise<TradingState> {
    const rows: { state: TradingState }[] = await (tx ?? this.db).query(
      `SELECT state FROM risk.trading_state WHERE id = 1`,
    );
    return rows[0]?.state ?? TradingState.Halted;
  }

  async approval(tx: EntityManager, approvalId: string): Promise<ApprovalRow | undefined> {
    const rows: {
      id: string;
      kind: string;
      subject_id: string;
      action_hash: string;
      status: string;
      required_approvals: number;
      valid_approvals: number;
    }[] = await tx.query(
      `SELECT id, kind, subject_id, action_hash, status, required_approvals, valid_approvals
         FROM gateway.approval_validity WHERE id = $1`,
      [approvalId],
    );
    const r = rows[0];
    return r
      ? {
          id: r.id,
          kind: r.kind,
          subjectId: r.subject_id,
          actionHash: r.action_hash,
          status: r.status,
          requiredApprovals: r.required_approvals,
          validApprovals: r.valid_approvals,
        }
      : undefined;
  }
}
