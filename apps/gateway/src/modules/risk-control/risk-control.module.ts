import { Module } from '@nestjs/common';
import { ApprovalsModule } from '../approvals/approvals.module';
import { RiskControlController } from './risk-control.controller';
import { RiskControlService } from './risk-control.service';
import { RiskStateQueryRepository } from './risk-state-query.repository';

@Module({
  imports: [ApprovalsModule],
  controllers: [RiskControlController],
  providers: [RiskControlService, RiskStateQueryRepository],
})
export class RiskControlModule {}
