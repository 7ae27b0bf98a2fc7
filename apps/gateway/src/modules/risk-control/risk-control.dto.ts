import { z } from 'zod';
import { PAPER_VENUE, unsignedDecimalString, venueIdSchema } from '@desk/contracts';

const reason = z.string().trim().min(1, 'is required').max(500);

export const killSchema = z.object({ reason, flatten: z.boolean().default(false) }).strict();
export const resumeSchema = z.object({ reason }).strict();
export const venueSwitchSchema = z.object({ reason }).strict();
/** A venue named in a path; the paper venue never trades real money, so it can never be made live. */
export const liveVenueParamSchema = z
  .object({
    venue: venueIdSchema.refine((v) => v !== PAPER_VENUE, 'the paper venue never trades real money'),
  })
  .strict();
export const putLimitsSchema = z
  .object({
    limits: z
      .record(z.string().regex(/^[a-z][a-z0-9_]{1,63}$/, 'must be a limit name'), unsignedDecimalString)
      .refine((l) => Object.keys(l).length > 0, 'must name at least one limit'),
    reason,
  })
  .strict();

export interface TradingStateView {
  state: string;
  reason: string;
  setBy: { type: string; id: string; keyId: string | null };
  source: string;
  setAt: string;
  /** Bumped by every change; a resume approval names the version (the halt) it lifts. */
  version: string;
}

export interface LimitView {
  name: string;
  value: string;
  updatedAt: string;
  updatedBy: string;
}

export interface VenueView {
  venue: string;
  live: boolean;
  approvalId: string | null;
  reason: string;
  setBy: { type: string; id: string; keyId: string | null };
  setAt: string;
}
