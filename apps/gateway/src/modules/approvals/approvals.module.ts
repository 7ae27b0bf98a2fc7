import { Module } from '@nestjs/common';
import { ApprovalNotifyProcessor } from './approval-notify.processor';
import { ApprovalRequestedProcessor } from './approval-requested.processor';
import { ApprovalWebhook } from './approval-webhook';
import { ApprovalsCoreModule } from './approvals-core.module';
import { ApprovalsController } from './approvals.controller';

/** Approval endpoints, requests raised by risk (approvals queue) and the outbound webhook (notifications). */
@Module({
  imports: [ApprovalsCoreModule],
  controllers: [ApprovalsController],
  providers: [ApprovalWebhook, ApprovalRequestedProcessor, ApprovalNotifyProcessor],
})
export class ApprovalsModule {}
