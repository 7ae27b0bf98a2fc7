import { Module } from '@nestjs/common';
import { ExecutionReportedProcessor } from './execution-reported.processor';
import { PositionsRepository } from './positions.repository';
import { PositionsService } from './positions.service';

@Module({
  providers: [PositionsRepository, PositionsService, ExecutionReportedProcessor],
})
export class PositionsModule {}
