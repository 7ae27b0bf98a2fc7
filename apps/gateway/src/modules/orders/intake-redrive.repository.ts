import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Actor, OrderParams } from '@desk/contracts';
import { actorOfRow, orderOfRow, type OrderRow } from '@desk/platform';

export interface UnrecordedSubmission {
  id: string;
  actor: Actor;
  order: OrderParams;
  correlationId: string;
  submittedAt: Date;
}

export interface UnrecordedCommand {
  commandId: string;
  command: string;
  reason: string;
  flatten: boolean;
  limits: Record<string, string> | null;
  venue: string | null;
  approvalId: string | null;
  actor: Actor;
  correlationId: string;
  createdAt: Date;
  stateVersion: string | null;
  limitsVersion: string | null;
}

/**
 * What the gateway accepted and risk never recorded (through risk's declared views), older than `afterMs`
 * and younger than a day (jobs are kept a day: within it a completed job is still known to the queue).
 */
@Injectable()
export class IntakeRedriveRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async submissions(afterMs: number, limit: number): Promise<UnrecordedSubmission[]> {
    const rows: (OrderRow & { id: string; correlation_id: string; submitted_at: Date })[] =
      await this.db.query(
        `SELECT s.id, 'operator' AS actor_type, s.actor_id, s.actor_key_id, s.symbol, s.side, s.type,
              s.quantity::text, s.price::text, s.correlation_id, s.submitted_at
         FROM gateway.submissions s
        WHERE s.submitted_at < now() - make_interval(secs => $1 / 1000.0)
          AND s.submitted_at > now() - interval '23 hours'
          AND NOT EXISTS (SELECT 1 FROM risk.intents_v i WHERE i.id = s.id)
        ORDER BY s.submitted_at LIMIT $2`,
        [afterMs, limit],
      );
    return rows.map((r) => ({
      id: r.id,
      actor: actorOfRow(r),
      order: orderOfRow(r),
      correlationId: r.correlation_id,
      submittedAt: r.submitted_at,
    }));
  }

  async commands(afterMs: number, limit: number): Promise<UnrecordedCommand[]> {
    const rows: {
      command_id: string;
      command: string;
      reason: string;
      flatten: boolean;
      limits: Record<string, string> | null;
      venue: string | null;
      approval_id: string | null;
      actor_type: Actor['type'];
      actor_id: string;
      actor_key_id: string | null;
      correlation_id: string;
      created_at: Date;
      state_version: string | null;
      limits_version: string | null;
    }[] = await this.db.query(
      `SELECT c.* FROM gateway.control_requests c
        WHERE c.created_at < now() - make_interval(secs => $1 / 1000.0)
          AND c.created_at > now() - interval '23 hours'
          AND NOT EXISTS (SELECT 1 FROM risk.control_outcomes o WHERE o.command_id = c.command_id)
        ORDER BY c.created_at LIMIT $2`,
      [afterMs, limit],
    );
    return rows.map((r) => ({
      commandId: r.command_id,
      command: r.command,
      reason: r.reason,
      flatten: r.flatten,
      limits: r.limits,
      venue: r.venue,
      approvalId: r.approval_id,
      actor: actorOfRow(r),
      correlationId: r.correlation_id,
      createdAt: r.created_at,
      stateVersion: r.state_version,
      limitsVersion: r.limits_version,
    }));
  }
}
