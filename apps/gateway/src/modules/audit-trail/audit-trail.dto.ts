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

export const verifyAuditQuerySchema = z
  .object({ from: seq.optional(), to: seq.optional() })
  .strict()
  .refine((q) => !q.from || !q.to || BigInt(q.from) <= BigInt(q.to), {
    path: ['to'],
    message: 'must not be before from',
  });

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
