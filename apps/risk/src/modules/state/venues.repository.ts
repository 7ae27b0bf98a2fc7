import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { Actor } from '@desk/contracts';

export interface VenueSetting {
  readonly venue: string;
  readonly live: boolean;
  readonly approvalId: string | null;
  readonly reason: string;
  readonly setBy: Actor;
  readonly commandId: string;
}

/** risk.venues: which venues two approvers enabled for live trading. Execution reads it before placing. */
@Injectable()
export class VenuesRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Whether any venue trades real money: then every order is critical (one execution venue per desk). */
  async anyLive(tx?: EntityManager): Promise<boolean> {
    const rows: unknown[] = await (tx ?? this.db).query(`SELECT 1 FROM risk.venues WHERE live LIMIT 1`);
    return rows.length > 0;
  }

  /** The venue's current setting, locked until the transaction ends (switches take turns). */
  async lock(tx: EntityManager, venue: string): Promise<{ live: boolean } | undefined> {
    const rows: { live: boolean }[] = await tx.query(
      `SELECT live FROM risk.venues WHERE venue = $1 FOR UPDATE`,
      [venue],
    );
    return rows[0];
  }

  async set(tx: EntityManager, s: VenueSetting): Promise<void> {
    await tx.query(
      `INSERT INTO risk.venues
         (venue, live, approval_id, reason, set_by_type, set_by_id, set_by_key_id, command_id, set_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
       ON CONFLICT (venue) DO UPDATE SET
         live = EXCLUDED.live, approval_id = EXCLUDED.approval_id, reason = EXCLUDED.reason,
         set_by_type = EXCLUDED.set_by_type, set_by_id = EXCLUDED.set_by_id,
         set_by_key_id = EXCLUDED.set_by_key_id, command_id = EXCLUDED.command_id, set_at = now()`,
      [s.venue, s.live, s.approvalId, s.reason, s.setBy.type, s.setBy.id, s.setBy.keyId ?? null, s.commandId],
    );
  }
}
