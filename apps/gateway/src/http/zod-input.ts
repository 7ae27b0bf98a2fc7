import { AppError, type FieldProblem } from '@desk/platform';
import type { z } from 'zod';

/** Field-level problems from a zod error: unknown keys are named one by one. */
export function fieldProblems(error: z.ZodError): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({ field: base ? `${base}.${key}` : key, reason: 'unknown field' });
    } else if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) {
      out.push({ field: base || '(body)', reason: 'is required' });
    } else if (issue.code === 'invalid_type') {
      out.push({ field: base || '(body)', reason: `must be of type ${issue.expected}` });
    } else {
      out.push({ field: base || '(body)', reason: issue.message });
    }
  }
  return out;
}

/** Parses untrusted input (body, query) or throws a 400 that names each field and why. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what = '(body)'): z.infer<S> {
  if (what === '(body)' && (typeof input !== 'object' || input === null || Array.isArray(input))) {
    throw AppError.validation([{ field: '(body)', reason: 'must be a JSON object' }]);
  }
  const result = schema.safeParse(input ?? {});
  if (!result.success) throw AppError.validation(fieldProblems(result.error));
  return result.data;
}
