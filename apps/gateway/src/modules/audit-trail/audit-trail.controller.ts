import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '@desk/contracts';
import { openApiSchema } from '../../http/openapi';
import { CurrentActor } from '../../http/request-context';
import { RequireRole } from '../access/require-role.decorator';
import { Role } from '../access/role';
import { startVerificationSchema } from './audit-trail.dto';
import { AuditTrailService } from './audit-trail.service';
import { AuditVerificationService } from './audit-verification.service';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
export class AuditTrailController {
  constructor(
    @Inject(AuditTrailService) private readonly audit: AuditTrailService,
    @Inject(AuditVerificationService) private readonly verifications: AuditVerificationService,
  ) {}

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

  @Post('verifications')
  @HttpCode(202)
  @RequireRole(Role.Admin)
  @ApiOperation({
    summary:
      'Start verifying the hash chain (optionally from/to a sequence number, held to heads kept outside the database), ' +
      'or join the run already going: one run at a time per desk. Read the verdict with GET /v1/audit/verifications/{id}',
  })
  @ApiBody({ schema: openApiSchema(startVerificationSchema) })
  startVerification(@CurrentActor() actor: Actor, @Body() body: unknown) {
    return this.verifications.start(actor, body);
  }

  @Get('verifications/:id')
  @RequireRole(Role.Admin)
  @ApiOperation({
    summary:
      'A verification run: running, ok (with the head), tampered (the first bad sequence number and why), timed_out or failed',
  })
  verification(@Param('id') id: string) {
    return this.verifications.find(id);
  }
}
