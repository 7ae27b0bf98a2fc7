import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JobName, SCHEMA_VERSION, type Actor, type AuditEvent } from '@desk/contracts';
import { JobPublisher } from './job-publisher';

export interface AuditRecord {
  actor: Actor;
  action: string;
  subject: { type: string; id: string };
  payload: Record<string, unknown>;
  correlationId: string;
  /** Stable id for events that may be recorded twice (a retried job): same id, one record. */
  eventId?: string;
  occurredAt?: Date;
}

/** Sends an audit event through the audit queue; the audit service is the only writer of the log. */
@Injectable()
export class AuditPublisher {
  constructor(@Inject(JobPublisher) private readonly jobs: JobPublisher) {}

  async record(record: AuditRecord): Promise<void> {
    const event: AuditEvent = {
      schemaVersion: SCHEMA_VERSION,
      eventId: record.eventId ?? randomUUID(),
      occurredAt: (record.occurredAt ?? new Date()).toISOString(),
      actor: record.actor,
      action: record.action,
      subject: record.subject,
      payload: record.payload,
      correlationId: record.correlationId,
    };
    await this.jobs.publish(JobName.AuditEvent, event);
  }
}
