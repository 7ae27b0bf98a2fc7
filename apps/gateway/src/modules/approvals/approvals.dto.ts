import { z } from 'zod';

export const listApprovalsQuerySchema = z
  .object({
    status: z.enum(['pending', 'denied', 'expired', 'executed', 'refused']).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(400).optional(),
  })
  .strict();

export const denySchema = z.object({ reason: z.string().trim().min(1).max(500) }).strict();

export interface ApprovalView {
  id: string;
  kind: string;
  status: string;
  statusReason: string | null;
  subjectId: string;
  /** The exact action that executes on quorum. */
  action: unknown;
  /** What an approver needs to decide: the risk numbers, old and new limits … */
  context: unknown;
  requester: { type: string; id: string; keyId: string | null };
  requiredApprovals: number;
  approvals: { operatorId: string; keyId: string; at: string }[];
  denial: { operatorId: string; keyId: string; reason: string | null; at: string } | null;
  createdAt: string;
  expiresAt: string;
  decidedAt: string | null;
  executedAt: string | null;
}
