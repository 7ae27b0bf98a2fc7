import { formatTimestamp, storableText, type RecordContent } from '@desk/audit-chain';
import type { AuditEvent } from '@desk/contracts';

/** An event as it will be stored, field for field; the repository adds seq, recordedAt and the hashes. */
export type PreparedEvent = Omit<RecordContent, 'seq' | 'recordedAt'>;

/** The event can never be stored as it is: retrying will not help. */
export class UnstorableEventError extends Error {
  override name = 'UnstorableEventError';
}

/**
 * Puts an event in the exact form PostgreSQL will give back, so the hash computed before the insert is
 * the hash of what is read later: lower-case event id, the time at millisecond precision in the canonical
 * text, text without lone surrogates, the payload as JSON text. NUL cannot be stored in PostgreSQL text.
 */
export function prepareEvent(event: AuditEvent): PreparedEvent {
  const occurred = new Date(event.occurredAt);
  if (Number.isNaN(occurred.getTime()) || occurred.getUTCFullYear() < 1) {
    throw new UnstorableEventError(`occurredAt ${event.occurredAt} is not a storable time`);
  }
  const text = (name: string, value: string): string => {
    if (value.includes('\u0000')) throw new UnstorableEventError(`${name} contains a NUL character`);
    return storableText(value);
  };
  return {
    eventId: event.eventId.toLowerCase(),
    occurredAt: formatTimestamp(occurred),
    actorType: text('actor.type', event.actor.type),
    actorId: text('actor.id', event.actor.id),
    actorKeyId: event.actor.keyId === undefined ? null : text('actor.keyId', event.actor.keyId),
    action: text('action', event.action),
    subjectType: text('subject.type', event.subject.type),
    subjectId: text('subject.id', event.subject.id),
    // JSON.stringify escapes NUL and lone surrogates, so the payload text is always storable.
    payload: JSON.stringify(event.payload),
    correlationId: text('correlationId', event.correlationId),
  };
}
