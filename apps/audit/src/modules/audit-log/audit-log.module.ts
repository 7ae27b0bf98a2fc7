import { Module } from '@nestjs/common';
import { AuditEventProcessor } from './audit-event.processor';
import { AuditLogRepository } from './audit-log.repository';
import { AuditLogService } from './audit-log.service';
import { CheckpointService } from './checkpoint.service';

@Module({ providers: [AuditLogRepository, AuditLogService, CheckpointService, AuditEventProcessor] })
export class AuditLogModule {}
