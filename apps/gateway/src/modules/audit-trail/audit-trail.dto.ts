import { z } from 'zod';

export const listAuditQuerySchema = z
  .object({
    subjectType: z.string().max(50).optional(),
    subjectId: z.string().max(200).optional(),
    action: z.string().max(100).optional(),
    actorId: z.string().max(100).optional(),
    correlationId: z.string().max(100).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(400).optional(),
  })
  .strict();

export type ListAuditQuery = z.infer<typeof listAuditQuerySchema>;

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
}
