import { Controller, Get, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '@desk/contracts';
import { CurrentActor, RequestId } from '../../http/request-context';
import { RequireRole } from '../access/require-role.decorator';
import { Role } from '../access/role';
import { SetupService } from './setup.service';

@ApiTags('access')
@ApiBearerAuth()
@Controller('v1/setup')
export class SetupController {
  constructor(@Inject(SetupService) private readonly setup: SetupService) {}

  @Get()
  @RequireRole(Role.Viewer)
  @ApiOperation({ summary: 'The desk setup phase: bootstrap (no two-man rule yet) or operational' })
  view() {
    return this.setup.view();
  }

  @Post('close')
  @HttpCode(200)
  @RequireRole(Role.Admin)
  @ApiOperation({
    summary: 'Close setup for good: from now on new operators and privileged keys need two approvers',
  })
  close(@CurrentActor() actor: Actor, @RequestId() correlationId: string) {
    return this.setup.close(actor, correlationId);
  }
}
