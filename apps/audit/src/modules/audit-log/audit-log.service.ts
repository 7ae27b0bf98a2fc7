import { Inject, Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { auditActorProblem, type AuditEvent, type ServiceName } from '@desk/contracts';
import { Batcher, UnverifiedJobError } from '@desk/platform';
import { AUDIT_CONFIG, type AuditConfig } from '../../config';
import { AuditLogRepository } from './audit-log.repository';

import { UnstorableEventError, prepareEvent, type PreparedEvent } from './prepared-event';

/**
 * Appends audit events to the hash chain, in batches: each job waits until the batch holding its event
 * has committed, so a job completes only once its event is stored (or was stored before).
 */
@Injectable()
export class AuditLogService {
  private readonly batcher: Batcher<PreparedEvent, boolean>;

  constructor(
    @Inject(AuditLogRepository) private readonly repository: AuditLogRepository,
    @Inject(AUDIT_CONFIG) config: AuditConfig,
  ) {
    this.batcher = new Batcher({
      maxSize: config.AUDIT_BATCH_SIZE,
      maxWaitMs: config.AUDIT_BATCH_WAIT_MS,
      write: (events) => this.repository.appendBatch(events),
    });
  }

  /**
   * `producer`: the service whose audit queue carried the event (undefined for the retired shared queue).
   * An event that service may not have recorded in its actor's name is refused (UnverifiedJobError).
   */
  async append(event: AuditEvent, producer?: ServiceName): Promise<{ recorded: boolean }> {
    const problem = producer === undefined ? undefined : auditActorProblem(producer, event);
    if (problem) throw new UnverifiedJobError(problem);
    let prepared: PreparedEvent;
    try {
      prepared = prepareEvent(event);
    } catch (error) {
      if (error instanceof UnstorableEventError) throw new UnrecoverableError(error.message);
      throw error;
    }
    return { recorded: await this.batcher.submit(prepared) };
  }
}
