import type { EntityManager } from 'typeorm';
import { canonicalJson, type ControlCommand } from '@desk/contracts';

/**
 * Records a control command the gateway issues (gateway.control_requests, read by risk through
 * gateway.control_sources, docs/adr/0010), inside the transaction that adds its outbox row: when risk can
 * see the job, the record is committed. Used by the risk controls (kill, lowering limits, switching a live
 * venue off) and by the approval executor (what quorum releases).
 */
export async function recordControlRequest(tx: EntityManager, c: ControlCommand): Promise<void> {
  await tx.query(
    `INSERT INTO gateway.control_requests
       (command_id, command, reason, flatten, limits, venue, approval_id, actor_type, actor_id, actor_key_id,
        correlation_id, state_version, limits_version)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [
      c.commandId,
      c.command,
      c.reason,
      c.flatten ?? false,
      c.limits ? canonicalJson(c.limits) : null,
      c.venue ?? null,
      c.approvalId ?? null,
      c.actor.type,
      c.actor.id,
      c.actor.keyId ?? null,
      c.correlationId,
      c.stateVersion ?? null,
      c.limitsVersion ?? null,
    ],
  );
}

/**
 * Risk's trading state version and limits version (risk.trading_state_v, risk.limits_v): an approved resume
 * or limit raise is bound to the versions it was requested against.
 */
export async function readRiskVersions(
  tx: EntityManager,
): Promise<{ stateVersion: string | undefined; limitsVersion: string }> {
  const [state, limits] = await Promise.all([
    tx.query<{ version: string }[]>(`SELECT version::text AS version FROM risk.trading_state_v WHERE id = 1`),
    tx.query<{ version: string }[]>(`SELECT COALESCE(max(revision), 0)::text AS version FROM risk.limits_v`),
  ]);
  return { stateVersion: state[0]?.version, limitsVersion: limits[0]?.version ?? '0' };
}
