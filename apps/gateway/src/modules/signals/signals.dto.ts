import { z } from 'zod';

export const listSignalsQuerySchema = z
  .object({
    symbol: z.string().max(21).optional(),
    agent: z.string().max(50).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(400).optional(),
  })
  .strict();

export type ListSignalsQuery = z.infer<typeof listSignalsQuerySchema>;

export interface SignalView {
  id: string;
  runId: string;
  agent: string;
  symbol: string;
  direction: string;
  conviction: string | null;
  abstained: boolean;
  rationale: string;
  price: string;
  createdAt: string;
  decision: { blendedConviction: string | null; outcome: string | null; intentId: string | null };
}
