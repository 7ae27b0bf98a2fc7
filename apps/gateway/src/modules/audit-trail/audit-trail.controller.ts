import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../access/require-role.decorator';
import { Role } from '../access/role';
import { AuditTrailService } from './audit-trail.service';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
export class AuditTrailController {
  constructor(@Inject(AuditTrailService) private readonly audit: AuditTrailService) {}

  @Get()
  @RequireRole(Role.Viewer)
  @ApiOperation({
    summary:
      'Audit records, oldest first (filters: actorId, action, subjectType, subjectId, correlationId, from, to)',
  })
  list(@Query() query: unknown) {
    return this.audit.list(query);
  }

  @Get('checkpoints')
  @RequireRole(Role.Viewer)
  @ApiOperation({ summary: 'Signed checkpoints of the head of the audit chain, oldest first' })
  checkpoints(@Query() query: unknown) {
    return this.audit.checkpoints(query);
  }

  @Get('verify')
  @RequireRole(Role.Viewer)
  @ApiOperation({
    summary:
      'Verify the hash chain (optionally from/to a sequence number): ok with the head, or the first bad sequence number and why',
  })
  verify(@Query() query: unknown) {
    return this.audit.verify(query);
  }
}
