import { Module } from '@nestjs/common';
import { ReconciliationQueryRepository } from './reconciliation-query.repository';
import { ReconciliationsController } from './reconciliations.controller';
import { ReconciliationsService } from './reconciliations.service';

@Module({
  controllers: [ReconciliationsController],
  providers: [ReconciliationsService, ReconciliationQueryRepository],
})
export class ReconciliationsModule {}
