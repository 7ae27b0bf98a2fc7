import { Module } from '@nestjs/common';
import { ApprovalExecutor } from './approval-executor';
import { ApprovalNotifyProcessor } from './approval-notify.processor';
import { ApprovalRequestedProcessor } from './approval-requested.processor';
import { ApprovalWebhook } from './approval-webhook';
import { ApprovalsController } from './approvals.controller';
import { ApprovalsRepository } from './approvals.repository';
import { ApprovalsService } from './approvals.service';

@Module({
  controllers: [ApprovalsController],
  providers: [
    ApprovalsRepository,
    ApprovalsService,
    ApprovalExecutor,
    ApprovalWebhook,
    ApprovalRequestedProcessor,
    ApprovalNotifyProcessor,
  ],
  exports: [ApprovalsService],
})
export class ApprovalsModule {}
