import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '@desk/contracts';
import { openApiSchema } from '../../http/openapi';
import { CurrentActor, RequestId } from '../../http/request-context';
import { RequireRole } from '../access/require-role.decorator';
import { Role } from '../access/role';
import { venueSwitchSchema } from './risk-control.dto';
import { RiskControlService } from './risk-control.service';

@ApiTags('risk')
@ApiBearerAuth()
@Controller('v1/venues')
export class VenuesController {
  constructor(@Inject(RiskControlService) private readonly risk: RiskControlService) {}

  @Get()
  @RequireRole(Role.Viewer)
  @ApiOperation({ summary: 'Venues whose live trading was ever switched: live or not, by whom, why' })
  list() {
    return this.risk.venues();
  }

  @Post(':venue/enable-live')
  @HttpCode(202)
  @RequireRole(Role.RiskAdmin)
  @ApiOperation({ summary: 'Ask to let a venue trade real money: raises a two-man approval request' })
  @ApiBody({ schema: openApiSchema(venueSwitchSchema) })
  enable(
    @CurrentActor() actor: Actor,
    @RequestId() correlationId: string,
    @Param() params: unknown,
    @Body() body: unknown,
  ) {
    return this.risk.enableLiveVenue(actor, params, body, correlationId);
  }

  @Post(':venue/disable-live')
  @HttpCode(202)
  @RequireRole(Role.RiskAdmin)
  @ApiOperation({ summary: 'Stop a venue trading real money, at once. Never gated.' })
  @ApiBody({ schema: openApiSchema(venueSwitchSchema) })
  disable(
    @CurrentActor() actor: Actor,
    @RequestId() correlationId: string,
    @Param() params: unknown,
    @Body() body: unknown,
  ) {
    return this.risk.disableLiveVenue(actor, params, body, correlationId);
  }
}
