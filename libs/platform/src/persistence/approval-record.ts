import type { EntityManager } from 'typeorm';
import type { ApprovalRow } from '@desk/contracts';

/**
 * Reads an approval from the gateway's view of approvals that still count (gateway.approval_validity),
 * read-only (docs/adr/0003). Risk and execution check every job that claims approval against it.
 */
export async function readApproval(tx: EntityManager, approvalId: string): Promise<ApprovalRow | undefined> {
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
        requiredApprovals: Number(r.required_approvals),
        validApprovals: Number(r.valid_approvals),
      }
    : undefined;
}
