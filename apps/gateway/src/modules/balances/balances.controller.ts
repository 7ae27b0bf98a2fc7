import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../access/require-role.decorator';
import { Role } from '../access/role';
import { BalancesService } from './balances.service';

@ApiTags('balances')
@ApiBearerAuth()
@Controller('v1/balances')
export class BalancesController {
  constructor(@Inject(BalancesService) private readonly balances: BalancesService) {}

  @Get()
  @RequireRole(Role.Viewer)
  @ApiOperation({ summary: 'Balances per venue and asset (free, used, total), as execution last read them' })
  list(@Query() query: unknown) {
    return this.balances.list(query);
  }
}
