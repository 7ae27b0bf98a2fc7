import { z } from 'zod';

export const createOperatorSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[\p{L}\p{N} ._'-]+$/u, "may contain letters, digits, spaces and . _ ' -")
      .refine((v) => v.trim() === v, 'must not start or end with a space'),
  })
  .strict();

export type CreateOperator = z.infer<typeof createOperatorSchema>;

export interface OperatorView {
  id: string;
  name: string;
  status: 'active' | 'disabled';
  createdAt: string;
  createdBy: string;
  disabledAt: string | null;
}
