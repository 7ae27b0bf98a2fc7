import { Controller, Get, Inject, Query } from '@nestjs/common';
import { RequireRole } from '../access/require-role.decorator';
import { Role } from '../access/role';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SignalsService } from './signals.service';

@ApiTags('signals')
@ApiBearerAuth()
@Controller('v1/signals')
export class SignalsController {
  constructor(@Inject(SignalsService) private readonly signals: SignalsService) {}

  @Get()
  @RequireRole(Role.Viewer)
  @ApiOperation({ summary: "Agents' signals, newest first, with the blended decision of their run" })
  list(@Query() query: unknown) {
    return this.signals.list(query);
  }
}
