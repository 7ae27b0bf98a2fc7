import { Inject, Injectable } from '@nestjs/common';
import type { Checkpoint, StoredVerifyResult } from '@desk/audit-chain';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';
import type { Page } from '../../http/cursor';
import { parseInput } from '../../http/zod-input';
import { AuditQueryRepository } from './audit-query.repository';
import {
  listAuditQuerySchema,
  listCheckpointsQuerySchema,
  verifyAuditQuerySchema,
  type AuditRecordView,
} from './audit-trail.dto';

@Injectable()
export class AuditTrailService {
  constructor(
    @Inject(AuditQueryRepository) private readonly audit: AuditQueryRepository,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  list(query: unknown): Promise<Page<AuditRecordView>> {
    return this.audit.list(parseInput(listAuditQuerySchema, query, '(query)'));
  }

  checkpoints(query: unknown): Promise<Page<Checkpoint>> {
    const q = parseInput(listCheckpointsQuerySchema, query, '(query)');
    return this.audit.checkpoints(q.limit, q.cursor);
  }

  verify(query: unknown): Promise<StoredVerifyResult> {
    return this.audit.verify(
      parseInput(verifyAuditQuerySchema, query, '(query)'),
      this.config.AUDIT_SIGNING_PUBLIC_KEY,
    );
  }
}
