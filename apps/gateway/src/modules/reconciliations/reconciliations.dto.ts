import { z } from 'zod';

export const listReconciliationsQuerySchema = z
  .object({ limit: z.coerce.number().int().min(1).max(100).default(20) })
  .strict();

export type ListReconciliationsQuery = z.infer<typeof listReconciliationsQuerySchema>;

/** One run of execution's reconciliation with a venue and what it found (each finding as execution wrote it). */
export interface ReconciliationView {
  id: string;
  venue: string;
  trigger: string;
  startedAt: string;
  finishedAt: string;
  outcome: 'in_sync' | 'differences' | 'failed';
  findings: unknown[];
}
