import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ApprovalKind } from '@desk/contracts';
import { deskGauge } from '@desk/platform';
import { timeToDecision } from './approval-metrics';
import { ApprovalsRepository } from './approvals.repository';

/** desk_approvals_pending{kind}: requests waiting for approvers, read from the gateway's table at scrape. */
@Injectable()
export class ApprovalMetrics implements OnModuleInit {
  constructor(@Inject(ApprovalsRepository) private readonly approvals: ApprovalsRepository) {}

  onModuleInit(): void {
    timeToDecision();
    deskGauge(
      'desk_approvals_pending',
      'Approval requests waiting for approvers, by kind',
      ['kind'],
      async (gauge) => {
        const rows = await this.approvals.pendingCounts();
        for (const kind of Object.values(ApprovalKind)) {
          gauge.set({ kind }, rows.find((r) => r.kind === String(kind))?.pending ?? 0);
        }
      },
    );
  }
}
