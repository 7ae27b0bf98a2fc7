import { Module } from '@nestjs/common';
import { AUDIT_QUEUE_PROCESSORS } from './audit-queue.processors';
import { AuditLogRepository } from './audit-log.repository';
import { AuditLogService } from './audit-log.service';
import { AuditWorkers } from './audit-workers';
import { ChainMetrics } from './chain-metrics.service';
import { CheckpointService } from './checkpoint.service';

@Module({
  providers: [
    AuditLogRepository,
    AuditLogService,
    CheckpointService,
    ChainMetrics,
    AuditWorkers,
    ...AUDIT_QUEUE_PROCESSORS,
  ],
})
export class AuditLogModule {}
