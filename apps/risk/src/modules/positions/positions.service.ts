import { Inject, Injectable } from '@nestjs/common';
import {
  OrderStatus,
  RiskReasonCode,
  jobIdOf,
  JobName,
  money,
  type ExecutionReported,
} from '@desk/contracts';
import { Batcher, UnverifiedJobError } from '@desk/platform';
import type { EntityManager } from 'typeorm';
import { BookLockService } from '../state/book-lock.service';
import { IntentsRepository } from '../state/intents.repository';
import { PositionsRepository } from '../state/positions.repository';
import { ExecutionRecordsRepository } from './execution-records.repository';

/**
 * What counts as a failed order for the error-rate breaker: the venue did not take it (UNKNOWN) or refused
 * it (VENUE_REJECTED), reconciliation had to correct it, or execution refused it for want of a valid
 * approval. Cancellations because the desk is halted or reducing
 * are the desk's own doing, not errors.
 */
export function isExecutionError(report: Pick<ExecutionReported, 'status' | 'reasonCode'>): boolean {
  if (report.status === OrderStatus.Unknown || report.status === OrderStatus.VenueRejected) return true;
  // Reconciliation found the desk's book wrong about this order and applied the venue's truth.
  if (report.reasonCode === String(RiskReasonCode.Reconciled)) return true;
  return (
    report.status === OrderStatus.Cancelled && report.reasonCode === String(RiskReasonCode.ApprovalInvalid)
  );
}

/** Most reports applied in one transaction (the consumer's concurrency bounds it too). */
export const REPORT_BATCH_SIZE = 32;

/**
 * Keeps risk's own view from execution reports, each applied once: the order's execution status (so its
 * pending exposure ends when it fills or is cancelled), the outcome the error-rate breaker counts, and, for
 * a fill, the position (quantity, average price, realized P&L, fees). Only what execution recorded: a
 * report is first checked against execution's own records (docs/adr/0010).
 */
@Injectable()
export class PositionsService {
  /**
   * Verified reports, applied in batches (group commit, docs/adr/0024): one transaction holding the book
   * for as many as arrived while the last batch was written, each applied in turn as if alone. A batch
   * that fails is applied again report by report (Batcher).
   */
  private readonly batches = new Batcher<ExecutionReported, boolean>({
    maxSize: REPORT_BATCH_SIZE,
    maxWaitMs: 0,
    write: (reports) =>
      this.positions.transaction(async (tx) => {
        // A fill moves quantity from pending to the position in one step that decisions never see half done.
        await this.book.hold(tx);
        const applied: boolean[] = [];
        for (const report of reports) applied.push(await this.apply(tx, report));
        return applied;
      }),
  });

  constructor(
    @Inject(PositionsRepository) private readonly positions: PositionsRepository,
    @Inject(IntentsRepository) private readonly intents: IntentsRepository,
    @Inject(ExecutionRecordsRepository) private readonly records: ExecutionRecordsRepository,
    @Inject(BookLockService) private readonly book: BookLockService,
  ) {}

  /** `applied`: a fill moved the position. */
  async handle(report: ExecutionReported): Promise<{ applied: boolean }> {
    await this.verify(report);
    return { applied: await this.batches.submit(report) };
  }

  /** One report inside a batch's transaction: true when its fill moved the position. */
  private async apply(tx: EntityManager, report: ExecutionReported): Promise<boolean> {
    const recorded = await this.positions.recordReport(tx, {
      id: jobIdOf(JobName.ExecutionReported, report),
      intentId: report.intentId,
      status: report.status,
      reasonCode: report.reasonCode ?? null,
      isError: isExecutionError(report),
      at: new Date(report.at),
    });
    if (!recorded) return false;
    await this.intents.setExecutionStatus(tx, report.intentId, report.status);
    const fill = report.fill;
    // Each partial fill moves the position as it happens (PARTIALLY_FILLED, then FILLED with the last);
    // a fill on any other status is not one execution reports.
    const fills = report.status === OrderStatus.Filled || report.status === OrderStatus.PartiallyFilled;
    if (!fills || !fill) return false;
    if (!(await this.positions.markFillApplied(tx, fill.fillId, report.intentId))) return false;
    await this.intents.addExecutedQuantity(tx, report.intentId, fill.quantity);
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
    return true;
  }

  /**
   * Execution must have recorded this status for this order (same symbol and side), and any fill the report
   * carries exactly so (same order, price, quantity, fee): a forged fill would move risk's position view and
   * with it every limit.
   */
  private async verify(report: ExecutionReported): Promise<void> {
    const { intentId, status } = report;
    const order = await this.records.status(intentId, status);
    if (!order) throw new UnverifiedJobError(`execution recorded no ${status} for order ${intentId}`);
    const differences: string[] = [];
    if (order.symbol !== report.symbol)
      differences.push(`symbol: ${report.symbol} ≠ recorded ${order.symbol}`);
    if (order.side !== String(report.side)) differences.push(`side: ${report.side} ≠ recorded ${order.side}`);
    const fill = report.fill;
    if (fill) {
      const recorded = await this.records.fill(fill.fillId);
      if (!recorded || recorded.intentId !== intentId) {
        differences.push(`fill ${fill.fillId}: not recorded for this order`);
      } else {
        for (const key of ['price', 'quantity', 'fee'] as const) {
          if (!money(fill[key]).eq(money(recorded[key])))
            differences.push(`fill.${key}: ${fill[key]} ≠ recorded ${recorded[key]}`);
        }
        if (fill.feeCurrency !== recorded.feeCurrency)
          differences.push(`fill.feeCurrency: ${fill.feeCurrency} ≠ recorded ${recorded.feeCurrency}`);
      }
    }
    if (differences.length) {
      throw new UnverifiedJobError(
        `the report differs from what execution recorded for order ${intentId}: ${differences.join('; ')}`,
      );
    }
  }
}
