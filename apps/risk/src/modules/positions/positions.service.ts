import { Inject, Injectable } from '@nestjs/common';
import {
  OrderStatus,
  RiskReasonCode,
  jobIdOf,
  JobName,
  money,
  type ExecutionReported,
} from '@desk/contracts';
import { IntentsRepository } from '../state/intents.repository';
import { PositionsRepository } from '../state/positions.repository';

/**
 * What counts as a failed order for the error-rate breaker: the venue did not take it (UNKNOWN), or
 * execution refused it for want of a valid approval. Cancellations because the desk is halted or reducing
 * are the desk's own doing, not errors.
 */
export function isExecutionError(report: Pick<ExecutionReported, 'status' | 'reasonCode'>): boolean {
  if (report.status === OrderStatus.Unknown) return true;
  return (
    report.status === OrderStatus.Cancelled && report.reasonCode === String(RiskReasonCode.ApprovalInvalid)
  );
}

/**
 * Keeps risk's own view from execution reports, each applied once: the order's execution status (so its
 * pending exposure ends when it fills or is cancelled), the outcome the error-rate breaker counts, and, for
 * a fill, the position (quantity, average price, realized P&L, fees).
 */
@Injectable()
export class PositionsService {
  constructor(
    @Inject(PositionsRepository) private readonly positions: PositionsRepository,
    @Inject(IntentsRepository) private readonly intents: IntentsRepository,
  ) {}

  /** `applied`: a fill moved the position. */
  async handle(report: ExecutionReported): Promise<{ applied: boolean }> {
    return this.positions.transaction(async (tx) => {
      const recorded = await this.positions.recordReport(tx, {
        id: jobIdOf(JobName.ExecutionReported, report),
        intentId: report.intentId,
        status: report.status,
        reasonCode: report.reasonCode ?? null,
        isError: isExecutionError(report),
        at: new Date(report.at),
      });
      if (!recorded) return { applied: false };
      await this.intents.setExecutionStatus(tx, report.intentId, report.status);
      const fill = report.fill;
      if (report.status !== OrderStatus.Filled || !fill) return { applied: false };
      if (!(await this.positions.markFillApplied(tx, fill.fillId, report.intentId)))
        return { applied: false };
      const before = await this.positions.lock(tx, report.symbol);
      await this.positions.save(
        tx,
        before.apply({
          side: report.side,
          quantity: money(fill.quantity),
          price: money(fill.price),
          fee: money(fill.fee),
        }),
      );
      return { applied: true };
    });
  }
}
