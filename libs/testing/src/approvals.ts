import { randomBytes, randomUUID } from 'node:crypto';
import type { Client } from 'pg';

export interface RecordedApproval {
  kind: string;
  subjectId: string;
  /** The action in canonical JSON, and its hash (`canonicalJson` and `actionHash` of @desk/contracts). */
  action: string;
  actionHash: string;
  /** Distinct approvers (each an active operator with an active approver key) who approved it. */
  approvers?: number;
  required?: number;
  status?: 'pending' | 'executed' | 'denied' | 'expired' | 'refused';
}

/**
 * An approval as the gateway records it, written directly (as the superuser) into gateway.approval_requests
 * and approval_decisions, for tests of the services that check approval records themselves (risk,
 * execution) without running a gateway. Returns the approval id and the approvers' key ids.
 */
export async function recordApproval(
  pg: Client,
  a: RecordedApproval,
): Promise<{ approvalId: string; keyIds: string[] }> {
  const { approvers = 2, required = 2, status = 'executed' } = a;
  const approvalId = randomUUID();
  await pg.query(
    `INSERT INTO gateway.approval_requests
       (id, kind, subject_id, action, action_hash, context, requester_type, requester_id, required_approvals,
        status, correlation_id, expires_at, executed_at)
     VALUES ($1, $2, $3, $4, $5, '{}', 'operator', 'alice', $6, $7, 'test', now() + interval '1 hour',
             CASE WHEN $7 = 'executed' THEN now() END)`,
    [approvalId, a.kind, a.subjectId, a.action, a.actionHash, required, status],
  );
  const keyIds: string[] = [];
  for (let n = 0; n < approvers; n++) {
    const operatorId = randomUUID();
    const keyId = `kid_${randomBytes(8).toString('hex')}`;
    await pg.query(
      `INSERT INTO gateway.operators (id, name, status, created_by) VALUES ($1, $2, 'active', 'test')`,
      [operatorId, `approver-${operatorId}`],
    );
    await pg.query(
      `INSERT INTO gateway.api_keys (id, operator_id, digest, roles, label, status, created_by)
       VALUES ($1, $2, $3, ARRAY['approver'], 'test', 'active', 'test')`,
      [keyId, operatorId, randomBytes(32)],
    );
    await pg.query(
      `INSERT INTO gateway.approval_decisions (request_id, operator_id, key_id, decision)
       VALUES ($1, $2, $3, 'approve')`,
      [approvalId, operatorId, keyId],
    );
    keyIds.push(keyId);
  }
  return { approvalId, keyIds };
}
