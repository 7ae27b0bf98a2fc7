import { Inject, Injectable } from '@nestjs/common';
import type { AuditEvent } from '@desk/contracts';
import { AuditLogRepository } from './audit-log.repository';

@Injectable()
export class AuditLogService {
  constructor(@Inject(AuditLogRepository) private readonly repository: AuditLogRepository) {}

  async append(event: AuditEvent): Promise<{ recorded: boolean }> {
    return { recorded: await this.repository.append(event) };
  }
}
