import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../access/require-role.decorator';
import { Role } from '../access/role';
import { ReconciliationsService } from './reconciliations.service';

@ApiTags('reconciliations')
@ApiBearerAuth()
@Controller('v1/reconciliations')
export class ReconciliationsController {
  constructor(@Inject(ReconciliationsService) private readonly reconciliations: ReconciliationsService) {}

  @Get()
  @RequireRole(Role.Viewer)
  @ApiOperation({
    summary: 'The latest reconciliations with the venues, newest first (limit 1-100, default 20)',
  })
  list(@Query() query: unknown) {
    return this.reconciliations.list(query);
  }

  @Get('latest')
  @RequireRole(Role.Viewer)
  @ApiOperation({ summary: 'The newest reconciliation with a venue (404 before the first)' })
  latest() {
    return this.reconciliations.latest();
  }
}
