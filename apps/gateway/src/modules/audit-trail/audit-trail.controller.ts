import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditTrailService } from './audit-trail.service';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
export class AuditTrailController {
  constructor(@Inject(AuditTrailService) private readonly audit: AuditTrailService) {}

  @Get()
  @ApiOperation({
    summary: 'Audit records, oldest first (filters: subjectType, subjectId, action, actorId, correlationId)',
  })
  list(@Query() query: unknown) {
    return this.audit.list(query);
  }
}
