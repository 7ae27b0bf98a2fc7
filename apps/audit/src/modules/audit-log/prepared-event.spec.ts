import { describe, expect, it } from '@jest/globals';
import { AuditAction, SCHEMA_VERSION, type AuditEvent } from '@desk/contracts';
import { UnstorableEventError, prepareEvent } from './prepared-event';

const event: AuditEvent = {
  schemaVersion: SCHEMA_VERSION,
  eventId: 'A0B1C2D3-0000-4000-8000-00000000000F',
  occurredAt: '2026-03-04T05:06:07.1234567Z',
  actor: { type: 'operator', id: 'op-1', keyId: 'key-1' },
  action: AuditAction.OrderReceived,
  subject: { type: 'order', id: 'o-\ud800-1' },
  payload: { note: 'nul \u0000 inside', price: '1.50' },
  correlationId: 'req-1',
};

describe('prepareEvent', () => {
  it('puts the event in the form PostgreSQL gives back', () => {
    expect(prepareEvent(event)).toEqual({
      eventId: 'a0b1c2d3-0000-4000-8000-00000000000f',
      occurredAt: '2026-03-04T05:06:07.123000Z',
      actorType: 'operator',
      actorId: 'op-1',
      actorKeyId: 'key-1',
      action: 'order.received',
      subjectType: 'order',
      subjectId: 'o-\ufffd-1',
      payload: '{"note":"nul \\u0000 inside","price":"1.50"}',
      correlationId: 'req-1',
    });
    expect(prepareEvent({ ...event, actor: { type: 'service', id: 'risk' } }).actorKeyId).toBeNull();
  });

  it('refuses what PostgreSQL cannot store', () => {
    expect(() => prepareEvent({ ...event, correlationId: 'a\u0000b' })).toThrow(UnstorableEventError);
    expect(() => prepareEvent({ ...event, occurredAt: '0000-01-01T00:00:00Z' })).toThrow(
      UnstorableEventError,
    );
  });
});
