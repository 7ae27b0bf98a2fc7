import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { ApprovalRow, ControlCommand } from '@desk/contracts';
import { readApproval } from '@desk/platform';

export type CommandOutcome = 'applied' | 'refused';

/** risk.control_commands: each command once (its id is the primary key), with what became of it. */
@Injectable()
export class ControlRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** Returns false when the command was already received (a redelivered job): nothing was written. */
  async record(
    tx: EntityManager,
    command: ControlCommand,
    outcome: CommandOutcome,
    detail: string | null,
  ): Promise<boolean> {
    const rows: unknown[] = await tx.query(
      `INSERT INTO risk.control_commands
         (id, command, actor_type, actor_id, actor_key_id, reason, approval_id, outcome, detail, correlation_id, issued_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [
        command.commandId,
        command.command,
        command.actor.type,
        command.actor.id,
        command.actor.keyId ?? null,
        command.reason,
        command.approvalId ?? null,
        outcome,
        detail,
        command.correlationId,
        command.issuedAt,
      ],
    );
    return rows.length > 0;
  }

  /** The approval as the gateway records it (gateway.approval_validity, read-only). */
  approval(tx: EntityManager, approvalId: string): Promise<ApprovalRow | undefined> {
    return readApproval(tx, approvalId);
  }

  /** The command an approval already released, if any: an approval releases one command only. */
  async commandUsing(tx: EntityManager, approvalId: string, except: string): Promise<string | undefined> {
    const rows: { id: string }[] = await tx.query(
      `SELECT id FROM risk.control_commands
        WHERE approval_id = $1 AND outcome = 'applied' AND id <> $2 LIMIT 1`,
      [approvalId, except],
    );
    return rows[0]?.id;
  }
}
