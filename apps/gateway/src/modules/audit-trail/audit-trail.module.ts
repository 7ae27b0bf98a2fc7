import { Module } from '@nestjs/common';
import { AuditQueryRepository } from './audit-query.repository';
import { AuditTrailController } from './audit-trail.controller';
import { AuditTrailService } from './audit-trail.service';
import { AuditVerificationRepository } from './audit-verification.repository';
import { AuditVerificationService } from './audit-verification.service';

@Module({
  controllers: [AuditTrailController],
  providers: [AuditTrailService, AuditQueryRepository, AuditVerificationService, AuditVerificationRepository],
})
export class AuditTrailModule {}
