import { Controller, Get, Inject } from '@nestjs/common';
import { RequireRole } from '../access/require-role.decorator';
import { Role } from '../access/role';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PositionsService } from './positions.service';

@ApiTags('positions')
@ApiBearerAuth()
@Controller('v1/positions')
export class PositionsController {
  constructor(@Inject(PositionsService) private readonly positions: PositionsService) {}

  @Get()
  @RequireRole(Role.Viewer)
  @ApiOperation({ summary: 'Positions: quantity, average price, unrealized P&L at the last market price' })
  list() {
    return this.positions.list();
  }
}
