import { Module } from '@nestjs/common';
import { AuditQueryRepository } from './audit-query.repository';
import { AuditTrailController } from './audit-trail.controller';
import { AuditTrailService } from './audit-trail.service';

@Module({ controllers: [AuditTrailController], providers: [AuditTrailService, AuditQueryRepository] })
export class AuditTrailModule {}
