import { AppError } from '@desk/platform';
import { UUID_RE } from './uuid';

/** Opaque keyset cursor: base64url of the sort key of the last row returned. */
export function encodeCursor(parts: readonly string[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

const notACursor = () =>
  AppError.validation([{ field: 'cursor', reason: 'is not a cursor returned by this API' }]);

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
  throw notACursor();
}

/** The timestamps our cursors carry: UTC with microseconds, as `to_char(… 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`. */
const CURSOR_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3})\d{3}Z$/;

/**
 * A (time, id) keyset cursor, checked so that PostgreSQL can never refuse it: the exact format the API
 * emits, a real calendar time (round-trips through Date), and a uuid.
 */
export function decodeTimeIdCursor(cursor: string): { at: string; id: string } {
  const [at, id] = decodeCursor(cursor, 2) as [string, string];
  const millis = CURSOR_TIME.exec(at)?.[1];
  const time = millis === undefined ? NaN : Date.parse(`${millis}Z`);
  const real = !Number.isNaN(time) && new Date(time).toISOString() === `${millis}Z`;
  if (!real || !UUID_RE.test(id)) throw notACursor();
  return { at, id };
}

/** A sequence-number cursor (the audit log's seq), within bigint. */
export function decodeSeqCursor(cursor: string): string {
  const [seq] = decodeCursor(cursor, 1) as [string];
  if (!/^\d{1,18}$/.test(seq)) throw notACursor();
  return seq;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
