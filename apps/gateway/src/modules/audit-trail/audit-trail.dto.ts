import type { StoredVerifyResult } from '@desk/audit-chain';
import { z } from 'zod';

const seq = z.string().regex(/^[1-9]\d{0,17}$/, 'must be a sequence number (1 or more)');
const time = z.iso.datetime({ offset: true });

export const listAuditQuerySchema = z
  .object({
    actorId: z.string().max(100).optional(),
    action: z.string().max(100).optional(),
    subjectType: z.string().max(50).optional(),
    subjectId: z.string().max(200).optional(),
    correlationId: z.string().max(100).optional(),
    /** occurredAt ≥ from and < to (ISO 8601). */
    from: time.optional(),
    to: time.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(400).optional(),
  })
  .strict()
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), {
    path: ['to'],
    message: 'must be after from',
  });

export type ListAuditQuery = z.infer<typeof listAuditQuerySchema>;

const head = z
  .string()
  .regex(/^[1-9]\d{0,17}:[0-9a-f]{64}$/, 'must be <seq>:<hash> (a sequence number, a colon, 64 hex digits)');

/** Body of POST /v1/audit/verifications: an optional range, and heads held outside the database. */
export const startVerificationSchema = z
  .object({ from: seq.optional(), to: seq.optional(), heads: z.array(head).max(100).optional() })
  .strict()
  .refine((q) => !q.from || !q.to || BigInt(q.from) <= BigInt(q.to), {
    path: ['to'],
    message: 'must not be before from',
  });

export type StartVerification = z.infer<typeof startVerificationSchema>;

/**
 * - `running`: started, no verdict yet; `ok`: the chain verifies; `tampered`: the first bad seq and why;
 * - `timed_out`: it took longer than AUDIT_VERIFY_TIMEOUT_MS (no verdict; not a sign of tampering);
 * - `failed`: it could not complete (the error id is in the message and the log).
 */
export type VerificationStatus = 'running' | 'ok' | 'tampered' | 'timed_out' | 'failed';

export interface VerificationRun {
  id: string;
  status: VerificationStatus;
  range: { from: string | null; to: string | null };
  /** Heads the chain was held to besides the database's own checkpoints. */
  heads: string[];
  /** The latest signed head an earlier run verified (kept outside PostgreSQL), if any. */
  witness: string | null;
  requestedBy: string;
  startedAt: string;
  finishedAt: string | null;
  result: StoredVerifyResult | null;
  message: string | null;
}

export const listCheckpointsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(400).optional(),
  })
  .strict();

export interface AuditRecordView {
  seq: string;
  eventId: string;
  occurredAt: string;
  recordedAt: string;
  actor: { type: string; id: string; keyId: string | null };
  action: string;
  subject: { type: string; id: string };
  payload: unknown;
  correlationId: string;
  prevHash: string;
  hash: string;
}
