import { z } from 'zod';
import { Role } from '../access/role';

/** A key the holder generated (`desk key generate`): its public id and SHA-256 digest, never the key. */
const credential = {
  keyId: z.string().regex(/^kid_[0-9a-f]{16}$/, 'must be a key id as `desk key generate` prints it'),
  digest: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be the SHA-256 digest (64 lowercase hex) `desk key generate` prints'),
};

export const registerKeySchema = z
  .object({
    ...credential,
    roles: z
      .array(z.enum(Role))
      .min(1)
      .max(5)
      .refine((r) => new Set(r).size === r.length, 'must not repeat a role'),
    label: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[\p{L}\p{N} ._:/-]+$/u, 'may contain letters, digits, spaces and . _ : / -')
      .optional(),
    expiresAt: z.iso
      .datetime({ offset: true })
      .refine((v) => Date.parse(v) > Date.now(), 'must be in the future')
      .optional(),
  })
  .strict();

export type RegisterKey = z.infer<typeof registerKeySchema>;

/** The holder's replacement for the key making the request. */
export const rotateOwnKeySchema = z
  .object({
    ...credential,
    /** How long the old key keeps working; default KEY_ROTATION_OVERLAP_SECONDS. */
    overlapSeconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 86_400)
      .optional(),
  })
  .strict();

export const listKeysQuerySchema = z.object({ operatorId: z.uuid().optional() }).strict();

export interface KeyView {
  keyId: string;
  operatorId: string;
  roles: Role[];
  label: string;
  status: 'active' | 'revoked';
  expiresAt: string | null;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
  rotatedTo: string | null;
}
