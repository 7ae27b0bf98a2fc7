import { Module } from '@nestjs/common';
import { StateModule } from '../state/state.module';
import { ExecutionRecordsRepository } from './execution-records.repository';
import { ExecutionReportedProcessor } from './execution-reported.processor';
import { PositionsService } from './positions.service';

@Module({
  imports: [StateModule],
  providers: [PositionsService, ExecutionReportedProcessor, ExecutionRecordsRepository],
})
export class PositionsModule {}
