import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '@desk/contracts';
import { openApiSchema } from '../../http/openapi';
import { CurrentActor, RequestId } from '../../http/request-context';
import { RequireRole } from '../access/require-role.decorator';
import { Role } from '../access/role';
import { denySchema } from './approvals.dto';
import { ApprovalsService } from './approvals.service';

@ApiTags('approvals')
@ApiBearerAuth()
@Controller('v1/approvals')
export class ApprovalsController {
  constructor(@Inject(ApprovalsService) private readonly approvals: ApprovalsService) {}

  @Get()
  @RequireRole(Role.Viewer)
  @ApiOperation({
    summary: 'Approval requests, newest first (?status=pending), with everything needed to decide',
  })
  list(@Query() query: unknown) {
    return this.approvals.list(query);
  }

  @Get(':id')
  @RequireRole(Role.Viewer)
  @ApiOperation({ summary: 'One approval request with its decisions' })
  get(@Param('id') id: string) {
    return this.approvals.get(id);
  }

  @Post(':id/approve')
  @HttpCode(200)
  @RequireRole(Role.Approver)
  @ApiOperation({ summary: 'Approve (not your own request); on quorum the action executes, exactly once' })
  approve(
    @CurrentActor() actor: Actor & { keyId: string },
    @RequestId() correlationId: string,
    @Param('id') id: string,
  ) {
    return this.approvals.approve(actor, id, correlationId);
  }

  @Post(':id/deny')
  @HttpCode(200)
  @RequireRole(Role.Approver)
  @ApiOperation({ summary: 'Deny (final); a reason is required' })
  @ApiBody({ schema: openApiSchema(denySchema) })
  deny(
    @CurrentActor() actor: Actor & { keyId: string },
    @RequestId() correlationId: string,
    @Param('id') id: string,
    @Body() body: unknown,
  ) {
    return this.approvals.deny(actor, id, body, correlationId);
  }
}
