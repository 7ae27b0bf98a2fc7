import { createHash } from 'node:crypto';

/** The previous hash of the first record (seq 1). */
export const GENESIS_HASH = '0'.repeat(64);

/** Tag of the serialization below; a new layout would get a new tag, never a silent change. */
export const CANONICAL_VERSION = 'desk.audit.v1';

/**
 * The content of one audit record, every field exactly as PostgreSQL gives it back as text: seq as a
 * decimal string, the event id as lower-case uuid text, times as UTC with microseconds
 * (`2024-05-01T12:00:00.123000Z`, see `formatTimestamp`), the payload as the JSON text that was stored.
 */
export interface RecordContent {
  seq: string;
  eventId: string;
  occurredAt: string;
  recordedAt: string;
  actorType: string;
  actorId: string;
  actorKeyId: string | null;
  action: string;
  subjectType: string;
  subjectId: string;
  payload: string;
  correlationId: string;
}

/** A stored record: its content and its place in the chain. */
export interface ChainedRecord extends RecordContent {
  prevHash: string;
  hash: string;
}

/**
 * The canonical serialization of a record's content: a JSON array of the fields in a fixed order.
 * Every field is a string (or null), so the text is fully determined by the stored values; nothing is
 * re-ordered or re-formatted the way jsonb would.
 */
export function canonicalContent(r: RecordContent): string {
  return JSON.stringify([
    CANONICAL_VERSION,
    r.seq,
    r.eventId,
    r.occurredAt,
    r.recordedAt,
    r.actorType,
    r.actorId,
    r.actorKeyId,
    r.action,
    r.subjectType,
    r.subjectId,
    r.payload,
    r.correlationId,
  ]);
}

/** hash = SHA-256 (hex) over the previous hash, a newline, and the canonical content (UTF-8). */
export function chainHash(prevHash: string, canonical: string): string {
  return createHash('sha256').update(prevHash, 'utf8').update('\n').update(canonical, 'utf8').digest('hex');
}

export function hashRecord(prevHash: string, content: RecordContent): string {
  return chainHash(prevHash, canonicalContent(content));
}

/**
 * A time as the canonical text: UTC, microseconds, `Z`. Matches what `TIMESTAMP_TEXT_SQL` reads back for
 * a timestamptz column written from this Date (a Date has millisecond precision, PostgreSQL microseconds).
 */
export function formatTimestamp(date: Date): string {
  const iso = date.toISOString();
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(iso))
    throw new RangeError(`time out of range: ${iso}`);
  return `${iso.slice(0, -1)}000Z`;
}

/** SQL reading a timestamptz column as the canonical text of `formatTimestamp`. */
export function timestampTextSql(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/**
 * A string as PostgreSQL text will hold it: lone UTF-16 surrogates cannot be stored in UTF-8 and come
 * back as U+FFFD, so the hash is computed over that form. (NUL cannot be stored at all: refuse it first.)
 */
export function storableText(value: string): string {
  return Buffer.from(value, 'utf8').toString('utf8');
}
