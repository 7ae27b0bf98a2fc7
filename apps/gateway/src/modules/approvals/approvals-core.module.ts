import { Module } from '@nestjs/common';
import { SetupModule } from '../setup/setup.module';
import { ApprovalExecutor } from './approval-executor';
import { ApprovalHoldsRepository } from './approval-holds.repository';
import { ApprovalMetrics } from './approval-metrics.service';
import { ApprovalsRepository } from './approvals.repository';
import { ApprovalsService } from './approvals.service';

/**
 * The two-man rule itself, for the features that raise requests (keys, risk controls) and for the console:
 * no HTTP endpoints and no queue workers (those are ApprovalsModule's).
 */
@Module({
  imports: [SetupModule],
  providers: [
    ApprovalsRepository,
    ApprovalHoldsRepository,
    ApprovalsService,
    ApprovalExecutor,
    ApprovalMetrics,
  ],
  exports: [ApprovalsService, ApprovalExecutor],
})
export class ApprovalsCoreModule {}
