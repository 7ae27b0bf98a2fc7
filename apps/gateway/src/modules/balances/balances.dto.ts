import { z } from 'zod';
import { venueIdSchema } from '@desk/contracts';

export const listBalancesQuerySchema = z
  .object({
    venue: venueIdSchema.optional(),
    asset: z
      .string()
      .regex(/^[A-Z0-9]{1,20}$/, 'must be an asset code such as BTC or USDT')
      .optional(),
  })
  .strict();

export type ListBalancesQuery = z.infer<typeof listBalancesQuerySchema>;

/** One asset's balance at one venue, as execution last read it from the venue (decimal strings). */
export interface BalanceView {
  venue: string;
  asset: string;
  free: string;
  used: string;
  total: string;
  updatedAt: string;
}
