import { Inject, Injectable } from '@nestjs/common';
import type { Checkpoint } from '@desk/audit-chain';
import type { Page } from '../../http/cursor';
import { parseInput } from '../../http/zod-input';
import { AuditQueryRepository } from './audit-query.repository';
import { listAuditQuerySchema, listCheckpointsQuerySchema, type AuditRecordView } from './audit-trail.dto';

@Injectable()
export class AuditTrailService {
  constructor(@Inject(AuditQueryRepository) private readonly audit: AuditQueryRepository) {}

  list(query: unknown): Promise<Page<AuditRecordView>> {
    return this.audit.list(parseInput(listAuditQuerySchema, query, '(query)'));
  }

  checkpoints(query: unknown): Promise<Page<Checkpoint>> {
    const q = parseInput(listCheckpointsQuerySchema, query, '(query)');
    return this.audit.checkpoints(q.limit, q.cursor);
  }
}
