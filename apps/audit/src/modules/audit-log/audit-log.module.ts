import { Module } from '@nestjs/common';
import { AuditEventProcessor } from './audit-event.processor';
import { AuditLogRepository } from './audit-log.repository';
import { AuditLogService } from './audit-log.service';

@Module({ providers: [AuditLogRepository, AuditLogService, AuditEventProcessor] })
export class AuditLogModule {}
