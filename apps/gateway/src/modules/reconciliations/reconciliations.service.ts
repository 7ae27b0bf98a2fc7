import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@desk/platform';
import { parseInput } from '../../http/zod-input';
import { ReconciliationQueryRepository } from './reconciliation-query.repository';
import { listReconciliationsQuerySchema, type ReconciliationView } from './reconciliations.dto';

@Injectable()
export class ReconciliationsService {
  constructor(
    @Inject(ReconciliationQueryRepository) private readonly reports: ReconciliationQueryRepository,
  ) {}

  async list(query: unknown): Promise<{ items: ReconciliationView[] }> {
    const { limit } = parseInput(listReconciliationsQuerySchema, query, '(query)');
    return { items: await this.reports.latest(limit) };
  }

  async latest(): Promise<ReconciliationView> {
    const [newest] = await this.reports.latest(1);
    if (!newest) throw AppError.notFound('reconciliation');
    return newest;
  }
}
