import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { deskGauge } from '@desk/platform';
import { AuditLogRepository } from './audit-log.repository';

/**
 * The audit chain's head and its latest signed checkpoint, read at scrape: a head that stops moving while
 * orders flow, or a checkpoint far behind the head, is the audit service not keeping up.
 */
@Injectable()
export class ChainMetrics implements OnModuleInit {
  constructor(@Inject(AuditLogRepository) private readonly repository: AuditLogRepository) {}

  onModuleInit(): void {
    deskGauge(
      'desk_audit_chain_head_seq',
      'Sequence number of the head of the audit chain',
      [],
      async (gauge) => {
        gauge.set(Number((await this.repository.chainHead()).seq));
      },
    );
    deskGauge(
      'desk_audit_checkpoint_seq',
      'Sequence number of the latest signed checkpoint (0: none yet)',
      [],
      async (gauge) => {
        gauge.set(Number((await this.repository.latestCheckpoint())?.seq ?? 0));
      },
    );
  }
}
