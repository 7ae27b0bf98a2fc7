import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Actor, RecordedControlCommand } from '@desk/contracts';

/**
 * The control commands the gateway issued, read-only through the view it declares for risk
 * (gateway.control_sources, docs/adr/0010): kill, lowering limits, switching a live venue off, and what an
 * approval released.
 */
@Injectable()
export class ControlSourcesRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The command the gateway recorded under this id (one primary-key read), or undefined. */
  async issued(commandId: string): Promise<RecordedControlCommand | undefined> {
    const rows: {
      command: string;
      reason: string;
      flatten: boolean;
      limits: Record<string, string> | null;
      venue: string | null;
      approval_id: string | null;
      actor_type: Actor['type'];
      actor_id: string;
      actor_key_id: string | null;
      state_version: string | null;
      limits_version: string | null;
    }[] = await this.db.query(
      `SELECT command, reason, flatten, limits, venue, approval_id, actor_type, actor_id, actor_key_id,
              state_version, limits_version
         FROM gateway.control_sources WHERE command_id = $1`,
      [commandId],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      command: r.command,
      reason: r.reason,
      flatten: r.flatten,
      actor: { type: r.actor_type, id: r.actor_id, ...(r.actor_key_id ? { keyId: r.actor_key_id } : {}) },
      ...(r.limits ? { limits: r.limits } : {}),
      ...(r.venue ? { venue: r.venue } : {}),
      ...(r.approval_id ? { approvalId: r.approval_id } : {}),
      ...(r.state_version ? { stateVersion: r.state_version } : {}),
      ...(r.limits_version ? { limitsVersion: r.limits_version } : {}),
    };
  }
}
