import { Inject, Injectable } from '@nestjs/common';
import {
  OrderStatus,
  RiskReasonCode,
  jobIdOf,
  JobName,
  money,
  type ExecutionReported,
  type Money,
} from '@desk/contracts';
import { Batcher, UnverifiedJobError } from '@desk/platform';
import { BookLockService } from '../state/book-lock.service';
import { FINAL_EXECUTION_STATUSES, IntentsRepository } from '../state/intents.repository';
import { PositionsRepository } from '../state/positions.repository';
import {
  ExecutionRecordsRepository,
  statusKey,
  type RecordedFill,
  type RecordedStatus,
} from './execution-records.repository';

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

/** What a batch made of one report: whether its fill moved the position, or why it was refused. */
type ReportOutcome = { applied: boolean } | { refused: UnverifiedJobError };

/**
 * Keeps risk's own view from execution reports, each applied once: the order's execution status (so its
 * pending exposure ends when it fills or is cancelled), the outcome the error-rate breaker counts, and, for
 * a fill, the position (quantity, average price, realized P&L, fees). Only what execution recorded: a
 * report is first checked against execution's own records (docs/adr/0010).
 */
@Injectable()
export class PositionsService {
  /**
   * Reports applied in batches (group commit, docs/adr/0024): one transaction holding the book for as
   * many as arrived while the last batch was written, with the same outcome as applying them one at a time
   * in that order, and a handful of statements for the whole batch. A batch that fails is applied again
   * report by report (Batcher).
   */
  private readonly batches = new Batcher<ExecutionReported, ReportOutcome>({
    maxSize: REPORT_BATCH_SIZE,
    maxWaitMs: 0,
    write: (reports) => this.applyBatch(reports),
  });

  constructor(
    @Inject(PositionsRepository) private readonly positions: PositionsRepository,
    @Inject(IntentsRepository) private readonly intents: IntentsRepository,
    @Inject(ExecutionRecordsRepository) private readonly records: ExecutionRecordsRepository,
    @Inject(BookLockService) private readonly book: BookLockService,
  ) {}

  /** `applied`: a fill moved the position. */
  async handle(report: ExecutionReported): Promise<{ applied: boolean }> {
    const outcome = await this.batches.submit(report);
    if ('refused' in outcome) throw outcome.refused;
    return outcome;
  }

  /**
   * Checks each report against execution's records (two reads for the batch; a forged report is refused
   * alone), then applies the others in one transaction holding the book, so a fill moves quantity from
   * pending to the position in one step that decisions never see half done:
   * - every report is recorded once (a redelivered one changes nothing more);
   * - each order's execution status becomes the last one reported, unless a final one came first;
   * - each fill is counted once: the order's executed quantity, and the position, fill after fill in order.
   */
  private async applyBatch(reports: ExecutionReported[]): Promise<ReportOutcome[]> {
    const [statuses, fills] = await Promise.all([
      this.records.statuses(reports),
      this.records.fills(reports.flatMap((r) => (r.fill ? [r.fill.fillId] : []))),
    ]);
    const refusals = reports.map((r) => verificationProblem(r, statuses, fills));
    const verified = reports.filter((_, i) => !refusals[i]);
    const applied = await this.positions.transaction(async (tx) => {
      await this.book.hold(tx);
      const ids = verified.map((r) => jobIdOf(JobName.ExecutionReported, r));
      const recorded = await this.positions.recordReports(
        tx,
        verified.map((r, i) => ({
          id: ids[i]!,
          intentId: r.intentId,
          status: r.status,
          reasonCode: r.reasonCode ?? null,
          isError: isExecutionError(r),
          at: new Date(r.at),
        })),
      );
      // Each report once, in order (the same job id twice in a batch is one report).
      const fresh = verified.filter((_, i) => recorded.delete(ids[i]!));
      await this.intents.setExecutionStatuses(tx, lastStatuses(fresh));
      // Each partial fill moves the position as it happens (PARTIALLY_FILLED, then FILLED with the last);
      // a fill on any other status is not one execution reports.
      const filling = fresh.filter(
        (r) => r.fill && (r.status === OrderStatus.Filled || r.status === OrderStatus.PartiallyFilled),
      );
      const counted = await this.positions.markFillsApplied(
        tx,
        filling.map((r) => ({ fillId: r.fill!.fillId, intentId: r.intentId })),
      );
      const moving = filling.filter((r) => counted.delete(r.fill!.fillId));
      const executed = new Map<string, Money>();
      for (const r of moving) {
        executed.set(r.intentId, (executed.get(r.intentId) ?? money('0')).plus(money(r.fill!.quantity)));
      }
      await this.intents.addExecutedQuantities(
        tx,
        [...executed].map(([intentId, quantity]) => ({ intentId, quantity })),
      );
      const positions = await this.positions.lock(tx, [...new Set(moving.map((r) => r.symbol))].sort());
      for (const r of moving) {
        const fill = r.fill!;
        positions.set(
          r.symbol,
          positions.get(r.symbol)!.apply({
            side: r.side,
            quantity: money(fill.quantity),
            price: money(fill.price),
            fee: money(fill.fee),
          }),
        );
      }
      await this.positions.save(tx, [...positions.values()]);
      return new Set(moving);
    });
    return reports.map((r, i) => {
      const refused = refusals[i];
      return refused ? { refused } : { applied: applied.has(r) };
    });
  }
}

/**
 * Each order's execution status after its reports in this batch, as if applied one at a time: the last one,
 * unless a final one (after which nothing more fills) came before it. The database keeps a final status it
 * already has.
 */
function lastStatuses(reports: readonly ExecutionReported[]): { intentId: string; status: OrderStatus }[] {
  const last = new Map<string, OrderStatus>();
  for (const r of reports) {
    const current = last.get(r.intentId);
    if (current === undefined || !FINAL_EXECUTION_STATUSES.has(current)) last.set(r.intentId, r.status);
  }
  return [...last].map(([intentId, status]) => ({ intentId, status }));
}

/**
 * Why the report is not what execution recorded (undefined: it is). Execution must have recorded this
 * status for this order (same symbol and side), and any fill the report carries exactly so (same order,
 * price, quantity, fee): a forged fill would move risk's position view and with it every limit.
 */
function verificationProblem(
  report: ExecutionReported,
  statuses: ReadonlyMap<string, RecordedStatus>,
  fills: ReadonlyMap<string, RecordedFill>,
): UnverifiedJobError | undefined {
  const { intentId, status } = report;
  const order = statuses.get(statusKey(intentId, status));
  if (!order) return new UnverifiedJobError(`execution recorded no ${status} for order ${intentId}`);
  const differences: string[] = [];
  if (order.symbol !== report.symbol) differences.push(`symbol: ${report.symbol} ≠ recorded ${order.symbol}`);
  if (order.side !== String(report.side)) differences.push(`side: ${report.side} ≠ recorded ${order.side}`);
  const fill = report.fill;
  if (fill) {
    const recorded = fills.get(fill.fillId);
    if (!recorded || recorded.intentId.toLowerCase() !== intentId.toLowerCase()) {
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
  if (!differences.length) return undefined;
  return new UnverifiedJobError(
    `the report differs from what execution recorded for order ${intentId}: ${differences.join('; ')}`,
  );
}
