import { AppError } from '@desk/platform';

/** Opaque keyset cursor: base64url of the sort key of the last row returned. */
export function encodeCursor(parts: readonly string[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, arity: number): string[] {
  try {
    const parts: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parts) &&
      parts.length === arity &&
      parts.every((p) => typeof p === 'string' && p.length < 100)
    ) {
      return parts as string[];
    }
  } catch {
    /* fall through */
  }
  throw AppError.validation([{ field: 'cursor', reason: 'is not a cursor returned by this API' }]);
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
