import { Inject, Injectable } from '@nestjs/common';
import { ORDER_STATE_MACHINE, ServiceName, money, type OrderUpdated } from '@desk/contracts';
import { Batcher, UnverifiedJobError } from '@desk/platform';
import { OrderProjectionRepository } from './order-projection.repository';
import {
  OrderSourcesRepository,
  type RecordedFill,
  type RecordedTransition,
} from './order-sources.repository';

/** Most updates projected in one transaction (the consumer's concurrency bounds it too). */
export const PROJECTION_BATCH_SIZE = 32;

/**
 * Keeps the gateway's projection of every order: one row per order with its current status, its history and
 * its fills, from the transitions its owners publish. Risk owns an order from intent to decision, execution
 * from placement to fill; the gateway decides nothing about an order's state and only projects it.
 * An update is projected only if its owner recorded exactly that transition (no job is its own evidence).
 */
@Injectable()
export class OrderProjectionService {
  /**
   * Verified updates, projected in batches (group commit, docs/adr/0024): as many as arrived while the last
   * batch was written share one transaction. Updates apply in any order, so a batch is as good as one by one.
   */
  private readonly batches = new Batcher<OrderUpdated, boolean>({
    maxSize: PROJECTION_BATCH_SIZE,
    maxWaitMs: 0,
    write: (updates) => this.projection.transaction((tx) => this.projection.applyMany(tx, updates)),
  });

  /** The owners' records of the updates arriving together, read in one statement per view. */
  private readonly riskEvents = this.reads<RecordedTransition>((seqs) => this.sources.riskTransitions(seqs));
  private readonly executionEvents = this.reads<RecordedTransition>((seqs) =>
    this.sources.executionTransitions(seqs),
  );
  private readonly fills = this.reads<RecordedFill>((ids) => this.sources.fills(ids));

  constructor(
    @Inject(OrderProjectionRepository) private readonly projection: OrderProjectionRepository,
    @Inject(OrderSourcesRepository) private readonly sources: OrderSourcesRepository,
  ) {}

  async apply(u: OrderUpdated): Promise<{ applied: boolean }> {
    await this.verify(u);
    return { applied: await this.batches.submit(u) };
  }

  private reads<T>(read: (keys: string[]) => Promise<(T | undefined)[]>): Batcher<string, T | undefined> {
    return new Batcher<string, T | undefined>({ maxSize: PROJECTION_BATCH_SIZE, maxWaitMs: 0, write: read });
  }

  private async verify(u: OrderUpdated): Promise<void> {
    const owner = ORDER_STATE_MACHINE[u.status].owner;
    if (owner !== u.owner)
      throw new UnverifiedJobError(`${u.owner} does not own ${u.status} (${owner} does)`);
    const event = await (u.owner === ServiceName.Risk ? this.riskEvents : this.executionEvents).submit(u.seq);
    const recorded = event?.orderId === u.intentId.toLowerCase() ? event : undefined;
    if (!recorded)
      throw new UnverifiedJobError(`${u.owner} recorded no event ${u.seq} for order ${u.intentId}`);
    if (recorded.status !== String(u.status)) {
      throw new UnverifiedJobError(
        `${u.owner} recorded event ${u.seq} of order ${u.intentId} as ${recorded.status}, not ${u.status}`,
      );
    }
    if (u.owner === ServiceName.Risk && (recorded.reasonCode ?? undefined) !== u.reasonCode) {
      throw new UnverifiedJobError(
        `risk recorded another reason code for event ${u.seq} of order ${u.intentId}`,
      );
    }
    if (u.fill) {
      const f = await this.fills.submit(u.fill.fillId);
      const same =
        f &&
        f.orderId === u.intentId.toLowerCase() &&
        money(f.price).eq(money(u.fill.price)) &&
        money(f.quantity).eq(money(u.fill.quantity)) &&
        money(f.fee).eq(money(u.fill.fee)) &&
        f.feeCurrency === u.fill.feeCurrency;
      if (!same)
        throw new UnverifiedJobError(`execution recorded no such fill ${u.fill.fillId} of ${u.intentId}`);
    }
  }
}
