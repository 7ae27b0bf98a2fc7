import { Controller, Get, Inject, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthenticatedRequest } from '../../http/request-context';
import { OperatorsService } from '../operators/operators.service';
import { RequireRole } from './require-role.decorator';
import { Role } from './role';

@ApiTags('access')
@ApiBearerAuth()
@Controller('v1/me')
export class MeController {
  constructor(@Inject(OperatorsService) private readonly operators: OperatorsService) {}

  @Get()
  @RequireRole(Role.Viewer)
  @ApiOperation({ summary: 'Who am I: operator, key id, roles, expiry of this key' })
  me(@Req() request: AuthenticatedRequest) {
    return this.operators.whoAmI(request);
  }
}
