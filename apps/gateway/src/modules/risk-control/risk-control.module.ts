import { Module } from '@nestjs/common';
import { ApprovalsCoreModule } from '../approvals/approvals-core.module';
import { RiskControlController } from './risk-control.controller';
import { RiskControlService } from './risk-control.service';
import { RiskStateQueryRepository } from './risk-state-query.repository';
import { VenuesController } from './venues.controller';

@Module({
  imports: [ApprovalsCoreModule],
  controllers: [RiskControlController, VenuesController],
  providers: [RiskControlService, RiskStateQueryRepository],
})
export class RiskControlModule {}
