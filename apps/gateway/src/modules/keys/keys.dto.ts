import { z } from 'zod';
import { Role } from '../access/role';

export const createKeySchema = z
  .object({
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

export type CreateKey = z.infer<typeof createKeySchema>;

export const rotateKeySchema = z
  .object({
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
