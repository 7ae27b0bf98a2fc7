import { Inject, Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import type { EntityManager } from 'typeorm';
import {
  ApprovalKind,
  AuditAction,
  OrderStatus,
  OrderType,
  RiskReasonCode,
  TradingState,
  actionHash,
  approvalProblem,
  cancelAllDifferences,
  money,
  orderAction,
  recordedOrderDifferences,
  toWire,
  type Money,
  type OrderAccepted,
  type OrderCancelRequested,
  type OrdersCancelAll,
} from '@desk/contracts';
import { Batcher, MarketPriceStore, Outbox, UnverifiedJobError, inLockOrder } from '@desk/platform';
import { EXECUTION_CONFIG, type ExecutionConfig } from '../../config';
import {
  EXCHANGE_ADAPTER,
  type ExchangeAdapter,
  type ExchangeOrder,
  type VenueOrderReport,
} from '../exchange/exchange-adapter';
import { VenueError, clientOrderIdFor } from '../exchange/venue-error';
import { ControlsRepository, type OrderDecision } from './controls.repository';
import { observeOrderToFill } from './execution-metrics.service';
import {
  describeNotional,
  isCritical,
  notionalOf,
  placementVerdict,
  reasonDetail,
  reducesPosition,
  type Verdict,
} from './order-guard';
import { HeldPositions, OrderRecorder } from './order-recorder.service';
import { OrdersRepository, type CancelRequest, type OrderRecord } from './orders.repository';
import { VenueMarkets } from './venue-markets.service';

interface Refusal {
  readonly reasonCode: RiskReasonCode;
  readonly reason: string;
  readonly figures?: Record<string, string>;
}

/** What one step does at the venue, decided and committed before the call. */
type VenueAction = 'place' | 'lookup' | 'cancel';

/** What the venue answered to one call. */
type VenueAnswer =
  | { readonly kind: 'report'; readonly report: VenueOrderReport }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'error'; readonly error: VenueError };

/** A step's committed decision: done without the venue, or what to ask it; undefined: not ours now. */
/** `decidedAt`: taken before the verdict was read; a lookup asks the venue as of then. */
type Decision =
  { done: OrderStatus } | { order: OrderRecord; action: VenueAction; decidedAt: Date } | undefined;

/** Where one step left the order; `again`: take another step now (`placeNow`: and place it). */
interface StepResult {
  readonly status: OrderStatus;
  readonly again: boolean;
  readonly placeNow?: boolean;
}

/** An accepted order, checked outside any transaction, waiting to be recorded (and its first step decided). */
interface AcceptItem {
  readonly job: OrderAccepted;
  readonly reduceOnly: boolean;
  readonly critical: boolean;
  readonly notional: Money | undefined;
}

type AcceptOutcome = { created: boolean; refused?: string; decided?: Decision };

/** The trading state and why (ControlsRepository.tradingState). */
type TradingStateReading = Awaited<ReturnType<ControlsRepository['tradingState']>>;

/** What an accept batch reads once for all its orders, in its transaction. */
interface AcceptReads {
  /** The first operator cancel of each order of the batch that has one (by order id, lower case). */
  readonly cancels: ReadonlyMap<string, { requestId: string; actorId: string }>;
  readonly trading: TradingStateReading;
  /** Live trading is enabled on this venue (always true on a venue that is not live). */
  readonly live: boolean;
}

/** A venue answer waiting to be recorded under its order's row lock. */
interface RecordItem {
  readonly orderId: string;
  readonly symbol: string;
  readonly action: VenueAction;
  readonly answer: VenueAnswer;
}

/**
 * Most accepted orders recorded, or venue answers recorded, in one transaction (group commit, docs/adr/0024);
 * the orders worker's concurrency bounds it too.
 */
export const EXECUTION_BATCH_SIZE = 32;

/** Placement is given up after this many attempts the venue surely did not take. */
const MAX_PLACE_ATTEMPTS = 8;
/** Backoff never waits longer than this. */
const MAX_BACKOFF_MS = 300_000;
/** One advance() takes at most this many steps (place after a lookup found nothing, cancel after a fill …). */
const MAX_STEPS = 4;

/**
 * The order lifecycle at execution (docs/adr/0023): record an accepted order (SUBMITTED), commit that it is
 * being placed (PLACING), call the venue outside any transaction, and record what the venue said (OPEN,
 * PARTIALLY_FILLED, FILLED, CANCELLED, EXPIRED, VENUE_REJECTED, or UNKNOWN when its answer was lost).
 * While an instance calls the venue about an order it holds the order's lease; any other step on the order
 * waits for the lease to end, and an order whose placement may have reached the venue (PLACING, UNKNOWN) is
 * looked up by its client order id before it is ever placed again: an order is never placed twice.
 *
 * Execution trusts no job's claims: it places an order only if risk accepted exactly that order
 * (risk.order_decisions), computes an order's criticality itself and places a critical order only under a
 * valid approval (gateway.approval_validity), and it re-reads the trading state (risk.trading_state) before
 * every placement and every step on a working order, so an order queued before a kill is never placed
 * after it, and a working one is cancelled.
 */
@Injectable()
export class OrderExecutionService {
  private readonly logger = new Logger(OrderExecutionService.name);
  private readonly threshold: Money;
  /** Risk's decisions on the orders arriving together, read in one statement. */
  private readonly decisionReads = new Batcher<string, OrderDecision | undefined>({
    maxSize: EXECUTION_BATCH_SIZE,
    maxWaitMs: 0,
    write: (ids) => this.controls.orderDecisions(ids),
  });
  /** Accepted orders arriving together, recorded (and their first steps decided) in one transaction. */
  private readonly accepts = new Batcher<AcceptItem, AcceptOutcome>({
    maxSize: EXECUTION_BATCH_SIZE,
    maxWaitMs: 0,
    write: (items) => this.acceptBatch(items),
  });
  /** Venue answers arriving together, recorded in one transaction. */
  private readonly records = new Batcher<RecordItem, StepResult>({
    maxSize: EXECUTION_BATCH_SIZE,
    maxWaitMs: 0,
    write: (items) => this.recordBatch(items),
  });

  constructor(
    @Inject(EXECUTION_CONFIG) private readonly config: ExecutionConfig,
    @Inject(OrdersRepository) private readonly orders: OrdersRepository,
    @Inject(ControlsRepository) private readonly controls: ControlsRepository,
    @Inject(MarketPriceStore) private readonly prices: MarketPriceStore,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(EXCHANGE_ADAPTER) private readonly exchange: ExchangeAdapter,
    @Inject(OrderRecorder) private readonly recorder: OrderRecorder,
    @Inject(VenueMarkets) private readonly markets: VenueMarkets,
  ) {
    this.threshold = money(config.APPROVAL_NOTIONAL_THRESHOLD);
  }

  /**
   * Records an accepted order and places it, or refuses it (CANCELLED with the reason code) when it is
   * critical without a valid approval or the desk is halted. A redelivered job (same intent id) changes
   * nothing. A job risk did not accept exactly so (UnverifiedJobError) records and places nothing.
   */
  async handle(job: OrderAccepted): Promise<{ orderId: string; created: boolean; refused?: string }> {
    const orderId = job.intentId;
    await this.verifyAccepted(job);
    // Risk refuses these already; an order that slipped through must not sit in the book forever.
    if (!(await this.markets.find(job.order.symbol))) {
      throw new UnrecoverableError(
        `order ${orderId}: ${this.exchange.venue} has no market ${job.order.symbol}`,
      );
    }
    if (
      !money(job.order.quantity).gt(0) ||
      (job.order.price !== undefined && !money(job.order.price).gt(0))
    ) {
      throw new UnrecoverableError(`order ${orderId}: quantity and limit price must be positive`);
    }
    const reduceOnly = job.reduceOnly ?? false;
    const lastPrice =
      job.order.type === OrderType.Market ? (await this.prices.get(job.order.symbol))?.price : undefined;
    const notional = notionalOf(job.order, lastPrice);
    // Risk's reduce-only closes cannot add exposure (checked against our position before they are placed),
    // so, like the kill switch itself, they are never held for approval.
    const critical = !reduceOnly && isCritical(notional, this.threshold, this.exchange.live);

    const outcome = await this.accepts.submit({ job, reduceOnly, critical, notional });
    if (outcome.decided) {
      try {
        await this.advance(orderId, outcome.decided);
      } catch (error) {
        // The order is recorded; the tick loop works on it. Retrying the job would only find it recorded.
        this.logger.warn({ err: error, orderId }, 'working on the order failed; the tick loop will retry');
      }
    }
    return {
      orderId,
      created: outcome.created,
      ...('refused' in outcome && outcome.refused ? { refused: outcome.refused } : {}),
    };
  }

  /**
   * Records a batch of accepted orders in one transaction, each in turn exactly as it would be alone: a
   * batch that fails is recorded again order by order (Batcher), so one order's failure never fails
   * another's. The outbox's jobs are sent once the batch commits.
   */
  private async acceptBatch(items: AcceptItem[]): Promise<AcceptOutcome[]> {
    // By symbol (in arrival order within one): positions are locked in the order recordBatch locks them.
    const turns = inLockOrder(items, (item) => [item.job.order.symbol]);
    const outcomes = await this.orders.transaction(async (tx) => {
      // Read once for the batch, in its transaction: the operators' cancels of these orders and the trading
      // state (docs/adr/0024). Every placement of the batch follows its commit, so each is still decided on
      // a trading state read before it.
      const reads: AcceptReads = {
        cancels: await this.controls.ordersCancelledBy(
          tx,
          items.map((i) => i.job.intentId),
        ),
        trading: await this.controls.tradingState(tx),
        live: !this.exchange.live || (await this.controls.liveEnabled(tx, this.exchange.venue)),
      };
      const done: AcceptOutcome[] = [];
      // Orders nothing holds back are recorded together; the rest one by one, as each would be alone.
      const atOnce = turns.filter(({ item }) => this.placeableAtOnce(item, reads));
      const outcomes = await this.acceptPlaceable(
        tx,
        atOnce.map(({ item }) => item),
      );
      atOnce.forEach(({ index }, i) => (done[index] = outcomes[i]!));
      for (const { item, index } of turns) if (!done[index]) done[index] = await this.accept(tx, item, reads);
      return done;
    });
    void this.outbox.flush();
    return outcomes;
  }

  /**
   * An order that decide() would send to the venue at once with nothing read under its row (the trading
   * state active, live trading enabled, not a reduce-only close whose position must be checked), that is
   * not critical (its approval is read) and that no operator cancelled before it got here.
   */
  private placeableAtOnce(item: AcceptItem, reads: AcceptReads): boolean {
    return (
      !item.critical &&
      !item.reduceOnly &&
      reads.live &&
      reads.trading.state === TradingState.Active &&
      !reads.cancels.has(item.job.intentId.toLowerCase())
    );
  }

  /**
   * In the batch's transaction: records orders that may be placed at once (placeableAtOnce), SUBMITTED
   * and then PLACING with this instance's lease, in one statement for all of them, and announces both
   * transitions of each exactly as accept() and decide() do one order at a time. The venue calls follow
   * the commit.
   */
  private async acceptPlaceable(tx: EntityManager, items: readonly AcceptItem[]): Promise<AcceptOutcome[]> {
    if (!items.length) return [];
    const accepted = items.map((item) => {
      const at = new Date();
      return { item, order: this.newOrder(item), submittedAt: at, placingAt: at };
    });
    // A job delivered twice into one batch is recorded once: its first copy.
    const first = new Map<string, (typeof accepted)[number]>();
    for (const a of accepted)
      if (!first.has(a.order.id.toLowerCase())) first.set(a.order.id.toLowerCase(), a);
    const recorded = await this.orders.insertPlacing(tx, [...first.values()], this.config.EXECUTION_LEASE_MS);
    const outcomes: AcceptOutcome[] = [];
    for (const a of accepted) {
      const { item, order, submittedAt, placingAt } = a;
      const events =
        first.get(order.id.toLowerCase()) === a ? recorded.get(order.id.toLowerCase()) : undefined;
      if (!events) {
        outcomes.push({ created: false });
        continue;
      }
      await this.recorder.announce(tx, order, OrderStatus.Submitted, submittedAt, events.submitted, {
        audit: this.aboutOf(item),
      });
      await this.recorder.announce(tx, order, OrderStatus.Placing, placingAt, events.placing, {
        key: `${OrderStatus.Placing}:1`,
        audit: { clientOrderId: order.clientOrderId, attempt: 1 },
      });
      outcomes.push({
        created: true,
        decided: {
          order: { ...order, status: OrderStatus.Placing, placeAttempts: 1, createdAt: submittedAt },
          action: 'place',
          decidedAt: placingAt,
        },
      });
    }
    return outcomes;
  }

  /** The order an accepted job asks for, as execution records it (SUBMITTED, nothing filled). */
  private newOrder({ job, reduceOnly }: AcceptItem): OrderRecord {
    const orderId = job.intentId;
    return {
      id: orderId,
      venue: this.exchange.venue,
      symbol: job.order.symbol,
      side: job.order.side,
      type: job.order.type,
      quantity: money(job.order.quantity),
      price: job.order.price === undefined ? null : money(job.order.price),
      status: OrderStatus.Submitted,
      correlationId: job.correlationId,
      reduceOnly,
      approvalId: job.approvalId ?? null,
      timeInForce: job.order.timeInForce ?? null,
      postOnly: job.order.postOnly ?? false,
      clientOrderId: clientOrderIdFor(orderId),
      venueOrderId: null,
      filledQuantity: money('0'),
      placeAttempts: 0,
      cancelRequest: null,
    };
  }

  /** The SUBMITTED audit event's account of the order: its parameters, who asked, when risk accepted it. */
  private aboutOf({ job, reduceOnly }: AcceptItem): Record<string, unknown> {
    return {
      ...job.order,
      requestedBy: job.actor,
      acceptedAt: job.acceptedAt,
      ...(reduceOnly ? { reduceOnly } : {}),
      ...(job.approvalId ? { approvalId: job.approvalId } : {}),
    };
  }

  /**
   * In the batch's transaction: records the order SUBMITTED and decides its first step, or records it
   * refused (CANCELLED) when it is critical without a valid approval, cancelled by an operator before it
   * got here, or the desk is halted. `created: false`: already recorded (a redelivered job).
   */
  private async accept(tx: EntityManager, item: AcceptItem, reads: AcceptReads): Promise<AcceptOutcome> {
    const { job, reduceOnly, critical, notional } = item;
    const orderId = job.intentId;
    const order = this.newOrder(item);
    const refusal =
      operatorCancelRefusal(reads.cancels.get(orderId.toLowerCase())) ??
      (critical ? await this.approvalRefusal(tx, job, notional) : undefined) ??
      haltRefusal(reads.trading, reduceOnly);
    const at = new Date();
    const about = this.aboutOf(item);
    if (refusal) {
      if (!(await this.orders.insertOrder(tx, { ...order, status: OrderStatus.Cancelled }))) {
        return { created: false };
      }
      await this.recorder.transition(tx, order, OrderStatus.Cancelled, at, {
        reasonCode: refusal.reasonCode,
        detail: reasonDetail(refusal.reasonCode, refusal.reason),
        action: AuditAction.OrderRefused,
        audit: { ...about, reason: refusal.reason, ...(refusal.figures ?? {}) },
      });
      return { created: true, refused: refusal.reasonCode };
    }
    if (!(await this.orders.insertOrder(tx, order))) return { created: false };
    await this.recorder.transition(tx, order, OrderStatus.Submitted, at, { audit: about });
    // The first step is decided in the same transaction (docs/adr/0024): one commit records SUBMITTED
    // and PLACING with its lease, and the venue call follows that commit as in every other step.
    return {
      created: true,
      decided: await this.decide(tx, { ...order, createdAt: at }, false, reads.trading),
    };
  }

  /**
   * Moves an order along: places a SUBMITTED one, asks the venue about a placed one, cancels one the desk
   * wants off the venue (or may no longer execute). Returns the order's status afterwards, or undefined
   * when it was not this instance's to work on now (another holds its lease, or it waits out a backoff).
   */
  async advance(orderId: string, first?: Decision): Promise<OrderStatus | undefined> {
    let status: OrderStatus | undefined;
    let placeNow = false;
    for (let step = 0; step < MAX_STEPS; step += 1) {
      const result: StepResult | undefined =
        step === 0 && first ? await this.act(orderId, first) : await this.step(orderId, placeNow);
      if (!result) return status;
      status = result.status;
      placeNow = result.placeNow ?? false;
      if (!result.again) return status;
    }
    return status;
  }

  /**
   * The kill switch at execution: every order that may still fill and was recorded before the kill, except
   * risk's own reduce-only closes (a kill with flatten sends those), is marked to be cancelled and then
   * cancelled (an order another step is calling the venue about is cancelled as soon as that call ends).
   */
  async cancelAll(job: OrdersCancelAll): Promise<{ cancelled: number }> {
    await this.verifyCancelAll(job);
    const request: CancelRequest = {
      reasonCode: job.reasonCode,
      reason: job.reason,
      context: { commandId: job.commandId, requestedBy: job.actor },
    };
    const cancelled = await this.cancelEach(
      await this.orders.cancellableOrderIds(new Date(job.requestedAt)),
      request,
    );
    await this.orders.recordCancelAll(job.commandId, cancelled);
    void this.outbox.flush();
    if (cancelled) this.logger.warn({ commandId: job.commandId, cancelled }, 'cancelled every open order');
    return { cancelled };
  }

  /**
   * An operator's cancel (DELETE /v1/orders/:id, or every working order of a symbol): the gateway must have
   * recorded exactly this request (gateway.cancel_request_sources), or nothing is cancelled.
   */
  async cancelRequested(job: OrderCancelRequested): Promise<{ cancelled: number }> {
    await this.verifyCancelRequest(job);
    const request: CancelRequest = {
      reasonCode: RiskReasonCode.CancelledByOperator,
      reason: `cancelled by ${job.actor.id}`,
      context: { requestId: job.requestId, requestedBy: job.actor },
    };
    const ids =
      job.target.kind === 'order'
        ? [job.target.intentId]
        : await this.orders.workingOrderIdsOf(job.target.symbol);
    const cancelled = await this.cancelEach(ids, request);
    await this.orders.recordCancelRequest(job.requestId, cancelled);
    void this.outbox.flush();
    this.logger.log({ requestId: job.requestId, cancelled }, 'operator cancel ran');
    return { cancelled };
  }

  private async cancelEach(ids: readonly string[], request: CancelRequest): Promise<number> {
    let requested = 0;
    for (const id of ids) {
      if (!(await this.orders.requestCancel(undefined, id, request))) continue;
      requested += 1;
      try {
        await this.advance(id);
      } catch (error) {
        // Recorded: the tick loop cancels it.
        this.logger.warn(
          { err: error, orderId: id },
          'cancelling the order failed; the tick loop will retry',
        );
      }
    }
    return requested;
  }

  /**
   * One step: decide and commit under the row lock, call the venue without one, record the answer.
   * `placeNow`: the previous step found the venue has no such order and committed a new placement attempt.
   */
  private async step(orderId: string, placeNow: boolean): Promise<StepResult | undefined> {
    const decided = await this.orders.transaction(async (tx) => {
      const order = await this.orders.lockActiveOrder(tx, orderId);
      if (!order) return undefined;
      return this.decide(tx, order, placeNow);
    });
    void this.outbox.flush();
    return this.act(orderId, decided);
  }

  /** The rest of a step once its decision is committed: the venue call, then its answer recorded. */
  private async act(orderId: string, decided: Decision): Promise<StepResult | undefined> {
    if (!decided) return undefined;
    if ('done' in decided) return { status: decided.done, again: false };
    const { order, action, decidedAt } = decided;
    const answer = await this.callVenue(action, order, decidedAt);
    const recorded = await this.records.submit({ orderId, symbol: order.symbol, action, answer });
    if (recorded.status === OrderStatus.Filled && order.createdAt) observeOrderToFill(order.createdAt);
    return recorded;
  }

  /**
   * Records a batch of venue answers in one transaction, each under its order's row lock as it would be
   * alone. They are taken by symbol, then order id, so two batches lock orders and positions in the same
   * order and never wait on each other in a circle; a batch that fails anyway (a deadlock, one answer that
   * cannot be recorded) is recorded again answer by answer (Batcher).
   */
  private async recordBatch(items: RecordItem[]): Promise<StepResult[]> {
    const turns = inLockOrder(items, (item) => [item.symbol, item.orderId]);
    const answeredId = (item: RecordItem) =>
      (item.answer.kind === 'report' ? item.answer.report.venueOrderId : undefined) ?? undefined;
    const results = await this.orders.transaction(async (tx) => {
      // Every order answered about is locked, and the lease of the call that just ended given back, in one
      // statement; an order answered about twice in one batch (never expected) is taken at its turn.
      const idOf = (item: RecordItem) => item.orderId.toLowerCase();
      const counts = new Map<string, number>();
      for (const item of items) counts.set(idOf(item), (counts.get(idOf(item)) ?? 0) + 1);
      const once = items.filter((item) => counts.get(idOf(item)) === 1);
      const released = await this.orders.releaseActiveOrders(
        tx,
        once.map((item) => ({ id: item.orderId, venueOrderId: answeredId(item) })),
      );
      // Each symbol's position locked once, at its first fill, and written back once before the commit.
      const positions = new HeldPositions(this.orders, tx);
      const done: StepResult[] = [];
      for (const { item, index } of turns) {
        const current =
          counts.get(idOf(item)) === 1
            ? released.get(idOf(item))
            : (
                await this.orders.releaseActiveOrders(tx, [
                  { id: item.orderId, venueOrderId: answeredId(item) },
                ])
              ).get(idOf(item));
        done[index] = current
          ? await this.record(tx, current, item.action, item.answer, positions)
          : { status: OrderStatus.Cancelled, again: false };
      }
      await positions.save();
      return done;
    });
    void this.outbox.flush();
    return results;
  }

  /**
   * Under the order's row lock: what to do at the venue (lease taken and committed), or done without it.
   * `trading`: the trading state as the caller's transaction read it (read here when not given).
   */
  private async decide(
    tx: EntityManager,
    order: OrderRecord,
    placeNow: boolean,
    trading?: TradingStateReading,
  ): Promise<Decision> {
    const decidedAt = new Date();
    let current = order;
    if (!current.cancelRequest) {
      const verdict = await this.verdict(tx, current, trading);
      if (!verdict.allowed) {
        const request: CancelRequest = {
          reasonCode: verdict.reasonCode ?? RiskReasonCode.TradingHalted,
          reason: verdict.reason ?? '',
          context: {},
        };
        await this.orders.requestCancel(tx, current.id, request);
        current = { ...current, cancelRequest: request };
      }
    }
    if (current.cancelRequest && current.status === OrderStatus.Submitted) {
      // Never sent: nothing to take off the venue.
      await this.cancelled(tx, current, current.cancelRequest, AuditAction.OrderRefused);
      return { done: OrderStatus.Cancelled };
    }
    let action: VenueAction;
    if (current.cancelRequest) action = 'cancel';
    else if (current.status === OrderStatus.Submitted) {
      // The attempt and the lease in one statement.
      const attempt = await this.orders.markPlacing(tx, current.id, this.config.EXECUTION_LEASE_MS);
      await this.recorder.transition(tx, current, OrderStatus.Placing, new Date(), {
        key: `PLACING:${attempt}`,
        audit: { clientOrderId: current.clientOrderId, attempt },
      });
      current = { ...current, status: OrderStatus.Placing, placeAttempts: attempt };
      return { order: current, action: 'place', decidedAt };
    } else if (current.status === OrderStatus.Placing && placeNow) {
      // The attempt was committed when the lookup found nothing; no other step has touched the order since
      // (it held the lease): place it. Any other PLACING order is looked up first.
      action = 'place';
    } else action = 'lookup';
    await this.orders.setLease(tx, current.id, this.config.EXECUTION_LEASE_MS);
    return { order: current, action, decidedAt };
  }

  private async callVenue(action: VenueAction, order: OrderRecord, decidedAt: Date): Promise<VenueAnswer> {
    const request = toExchangeOrder(order);
    try {
      switch (action) {
        case 'place':
          return { kind: 'report', report: await this.exchange.placeOrder(request) };
        case 'lookup': {
          const report = await this.exchange.fetchOrder(request, order.filledQuantity, decidedAt);
          return report ? { kind: 'report', report } : { kind: 'not-found' };
        }
        case 'cancel': {
          const report = await this.exchange.cancelOrder(request);
          return report ? { kind: 'report', report } : { kind: 'not-found' };
        }
        default: {
          const unreachable: never = action;
          throw new Error(`unknown venue action ${String(unreachable)}`);
        }
      }
    } catch (error) {
      const venueError =
        error instanceof VenueError
          ? error
          : new VenueError('unknown', error instanceof Error ? error.message : String(error));
      this.logger.warn(
        { err: venueError, orderId: order.id, action, kind: venueError.kind },
        'venue call failed',
      );
      return { kind: 'error', error: venueError };
    }
  }

  /** Under the order's row lock, its lease given back: records what the venue said. */
  private async record(
    tx: EntityManager,
    order: OrderRecord,
    action: VenueAction,
    answer: VenueAnswer,
    positions: HeldPositions,
  ): Promise<StepResult> {
    switch (answer.kind) {
      case 'report':
        return this.applyReport(tx, order, answer.report, false, positions);
      case 'not-found':
        return this.notFound(tx, order, action);
      case 'error':
        return this.failed(tx, order, action, answer.error);
      default: {
        const unreachable: never = answer;
        throw new Error(`unknown venue answer ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** The venue's word on the order: its new trades first, then its status (the venue's truth). */
  private async applyReport(
    tx: EntityManager,
    order: OrderRecord,
    report: VenueOrderReport,
    reconciled = false,
    positions?: HeldPositions,
  ): Promise<StepResult> {
    // recordBatch records the venue's id as it locks the order; a reconciliation's report may bring it here.
    if (report.venueOrderId && report.venueOrderId !== order.venueOrderId)
      await this.orders.setVenueOrderId(tx, order.id, report.venueOrderId);
    let current: OrderRecord = { ...order, venueOrderId: report.venueOrderId ?? order.venueOrderId };
    const fills = [...report.fills].sort((a, b) => a.at.getTime() - b.at.getTime());
    for (const fill of fills) {
      current =
        (await this.recorder.fill(
          tx,
          current,
          fill,
          reconciled ? RiskReasonCode.Reconciled : undefined,
          positions,
        )) ?? current;
    }
    // Every fill the venue counts must be recorded before the order's end is: positions follow fills.
    const fillsComplete = current.filledQuantity.gte(report.filledQuantity);
    const at = new Date();
    const reason = reconciled ? { reasonCode: RiskReasonCode.Reconciled } : {};
    const stillWorking = (): StepResult => ({
      status: current.status,
      // A cancel the desk asked for meanwhile is carried out next.
      again: current.cancelRequest !== null,
    });
    if (current.status === OrderStatus.Filled) return { status: OrderStatus.Filled, again: false };
    switch (report.status) {
      case 'open':
        if (current.status === OrderStatus.Placing || current.status === OrderStatus.Unknown) {
          await this.recorder.transition(tx, current, OrderStatus.Open, at, {
            ...reason,
            ...(report.detail ? { detail: report.detail } : {}),
            audit: { clientOrderId: current.clientOrderId, venueOrderId: current.venueOrderId },
          });
          current = { ...current, status: OrderStatus.Open };
        }
        return stillWorking();
      case 'filled':
        // The venue says filled but not all its trades were listed yet: the next step fetches them.
        if (!fillsComplete)
          this.logger.warn({ orderId: order.id }, 'venue reports a fill whose trades are not listed yet');
        return { status: current.status, again: false };
      case 'cancelled':
      case 'expired': {
        if (!fillsComplete) return { status: current.status, again: false };
        const request = current.cancelRequest;
        if (report.status === 'cancelled') {
          await this.cancelled(
            tx,
            current,
            request ?? {
              reasonCode: reconciled ? RiskReasonCode.Reconciled : RiskReasonCode.CancelledByVenue,
              reason: report.detail ?? 'the venue cancelled the order',
              context: {},
            },
            AuditAction.OrderCancelled,
          );
          return { status: OrderStatus.Cancelled, again: false };
        }
        await this.recorder.transition(tx, current, OrderStatus.Expired, at, {
          reasonCode: reconciled ? RiskReasonCode.Reconciled : RiskReasonCode.OrderExpired,
          detail: report.detail ?? 'the venue ended the order',
          audit: { filledQuantity: toWire(current.filledQuantity) },
        });
        return { status: OrderStatus.Expired, again: false };
      }
      case 'rejected': {
        const reasonCode = report.reasonCode ?? RiskReasonCode.VenueRejected;
        await this.recorder.transition(tx, current, OrderStatus.VenueRejected, at, {
          reasonCode,
          detail: reasonDetail(reasonCode, report.detail ?? 'the venue refused the order'),
        });
        return { status: OrderStatus.VenueRejected, again: false };
      }
      default: {
        const unreachable: never = report.status;
        throw new Error(`unknown venue status ${String(unreachable)}`);
      }
    }
  }

  /** The venue has no order with our client order id. */
  private async notFound(tx: EntityManager, order: OrderRecord, action: VenueAction): Promise<StepResult> {
    const neverAcknowledged = order.venueOrderId === null && order.filledQuantity.isZero();
    const at = new Date();
    if (neverAcknowledged && order.cancelRequest) {
      // Never reached the venue, and the desk wants it gone: it is refused, not placed.
      await this.cancelled(tx, order, order.cancelRequest, AuditAction.OrderRefused);
      return { status: OrderStatus.Cancelled, again: false };
    }
    if (neverAcknowledged && (order.status === OrderStatus.Placing || order.status === OrderStatus.Unknown)) {
      if (order.placeAttempts >= MAX_PLACE_ATTEMPTS) {
        await this.recorder.transition(tx, order, OrderStatus.VenueRejected, at, {
          reasonCode: RiskReasonCode.VenueError,
          detail: reasonDetail(
            RiskReasonCode.VenueError,
            `the venue did not take the order in ${order.placeAttempts} attempts`,
          ),
        });
        return { status: OrderStatus.VenueRejected, again: false };
      }
      // The venue never got it, and no earlier request can still reach it (the lookup came after the
      // request's timeout and receive window): place it again, committed as a new attempt first.
      const attempt = await this.orders.markPlacing(tx, order.id);
      await this.recorder.transition(tx, order, OrderStatus.Placing, at, {
        key: `PLACING:${attempt}`,
        detail: 'the venue has no such order: placing it again',
        audit: { clientOrderId: order.clientOrderId, attempt },
      });
      return { status: OrderStatus.Placing, again: true, placeNow: true };
    }
    // The venue knew the order and no longer does: its fate is for reconciliation (and an operator).
    if (order.status !== OrderStatus.Unknown) {
      await this.recorder.transition(tx, order, OrderStatus.Unknown, at, {
        reasonCode: RiskReasonCode.VenueError,
        detail: reasonDetail(RiskReasonCode.VenueError, `the venue no longer knows the order (${action})`),
      });
    }
    await this.orders.setNextAttempt(tx, order.id, this.config.EXECUTION_RECONCILE_MS);
    return { status: OrderStatus.Unknown, again: false };
  }

  /** A venue call failed: what it means depends on whether the venue may have acted (venue-error.ts). */
  private async failed(
    tx: EntityManager,
    order: OrderRecord,
    action: VenueAction,
    error: VenueError,
  ): Promise<StepResult> {
    const at = new Date();
    if (action === 'place' && error.kind === 'rejected') {
      const reasonCode = error.reasonCode ?? RiskReasonCode.VenueRejected;
      await this.recorder.transition(tx, order, OrderStatus.VenueRejected, at, {
        reasonCode,
        detail: reasonDetail(reasonCode, error.message),
      });
      return { status: OrderStatus.VenueRejected, again: false };
    }
    if (action === 'place' && error.kind === 'unknown') {
      await this.recorder.transition(tx, order, OrderStatus.Unknown, at, {
        reasonCode: RiskReasonCode.VenueError,
        detail: reasonDetail(RiskReasonCode.VenueError, error.message),
      });
      // Not asked again before the request can no longer be executed (its timeout and receive window).
      await this.orders.setNextAttempt(
        tx,
        order.id,
        this.config.EXECUTION_VENUE_TIMEOUT_MS + this.config.EXECUTION_VENUE_RECV_WINDOW_MS,
      );
      return { status: OrderStatus.Unknown, again: false };
    }
    // The venue was busy or a read failed: the order stays as it is and is worked on again after a backoff.
    const backoff = Math.min(
      MAX_BACKOFF_MS,
      error.retryAfterMs ??
        this.config.EXECUTION_RETRY_BACKOFF_MS * 2 ** Math.max(0, order.placeAttempts - 1),
    );
    await this.orders.setNextAttempt(tx, order.id, backoff);
    return { status: order.status, again: false };
  }

  /** Records the order CANCELLED for the desk's reason (an order never sent: refused). */
  private async cancelled(
    tx: EntityManager,
    order: OrderRecord,
    request: CancelRequest,
    action: AuditAction,
  ): Promise<void> {
    await this.recorder.transition(tx, order, OrderStatus.Cancelled, new Date(), {
      reasonCode: request.reasonCode,
      detail: reasonDetail(request.reasonCode, request.reason),
      action,
      audit: {
        reason: request.reason,
        filledQuantity: toWire(order.filledQuantity),
        ...request.context,
      },
    });
  }

  /**
   * Reconciliation: the venue's word on an order the desk's book disagrees with, applied as any report is,
   * its transitions marked RECONCILED. Undefined when another step holds the order (it will see the same).
   */
  async reconcileOrder(orderId: string): Promise<{ before: OrderStatus; after: OrderStatus } | undefined> {
    const askedAt = new Date();
    const order = await this.orders.transaction((tx) => this.orders.lockActiveOrder(tx, orderId));
    if (!order || order.status === OrderStatus.Submitted) return undefined;
    const answer = await this.callVenue('lookup', order, askedAt);
    if (answer.kind !== 'report') return undefined;
    const result = await this.orders.transaction(async (tx) => {
      const current = await this.orders.lockActiveOrder(tx, orderId);
      if (!current) return undefined;
      return this.applyReport(tx, current, answer.report, true);
    });
    void this.outbox.flush();
    return result && { before: order.status, after: result.status };
  }

  /**
   * Risk must have ACCEPTED this intent with exactly this actor, these parameters, this reduce-only flag
   * and this approval: otherwise the job did not come from risk's decision, and nothing is recorded for
   * the intent (a forgery naming a real intent id must not block the real order). Risk's decision is final
   * once ACCEPTED, so reading it outside the order's transaction is enough.
   */
  private async verifyAccepted(job: OrderAccepted): Promise<void> {
    const decided = await this.decisionReads.submit(job.intentId);
    if (!decided) throw new UnverifiedJobError(`risk has no decision on intent ${job.intentId}`);
    if (decided.decision !== String(OrderStatus.Accepted)) {
      throw new UnverifiedJobError(
        `risk did not accept intent ${job.intentId} (its decision: ${decided.decision})`,
      );
    }
    const differences = recordedOrderDifferences(decided, job);
    const reduceOnly = job.reduceOnly ?? false;
    if (decided.reduceOnly !== reduceOnly)
      differences.push(`reduceOnly: ${reduceOnly} ≠ recorded ${decided.reduceOnly}`);
    if (decided.approvalId !== (job.approvalId ?? null))
      differences.push(
        `approvalId: ${job.approvalId ?? '(none)'} ≠ recorded ${decided.approvalId ?? '(none)'}`,
      );
    if (differences.length) {
      throw new UnverifiedJobError(
        `the job differs from what risk accepted for intent ${job.intentId}: ${differences.join('; ')}`,
      );
    }
  }

  /** Why a critical order may not be placed (undefined: its approval releases exactly this order). */
  private async approvalRefusal(
    tx: EntityManager,
    job: OrderAccepted,
    notional: Money | undefined,
  ): Promise<Refusal | undefined> {
    const row = job.approvalId ? await this.controls.approval(tx, job.approvalId) : undefined;
    const problem = approvalProblem(row, {
      approvalId: job.approvalId,
      kind: ApprovalKind.Order,
      subjectId: job.intentId,
      actionHash: actionHash(ApprovalKind.Order, orderAction(job.intentId, job.order)),
    });
    if (!problem) return undefined;
    this.logger.warn(
      { orderId: job.intentId, approvalId: job.approvalId, problem },
      'critical order refused',
    );
    return {
      reasonCode: RiskReasonCode.ApprovalInvalid,
      reason: `${describeNotional(notional, this.threshold)}: ${problem}`,
      figures: {
        threshold: toWire(this.threshold),
        ...(notional ? { notional: toWire(notional) } : {}),
      },
    };
  }

  /**
   * Risk must have asked for exactly this cancel-all (risk.cancel_all_sources: same command id, actor,
   * reason code and reason): otherwise the job did not come from risk and nothing is cancelled.
   */
  private async verifyCancelAll(job: OrdersCancelAll): Promise<void> {
    const requested = await this.controls.cancelAllRequest(job.commandId);
    if (!requested) throw new UnverifiedJobError(`risk asked for no cancel-all ${job.commandId}`);
    const differences = cancelAllDifferences(requested, job);
    if (differences.length) {
      throw new UnverifiedJobError(
        `the job differs from cancel-all ${job.commandId} as risk asked for it: ${differences.join('; ')}`,
      );
    }
  }

  /**
   * The gateway must have recorded exactly this cancel (gateway.cancel_request_sources: same request id,
   * actor and target): otherwise the job did not come from an operator and nothing is cancelled.
   */
  private async verifyCancelRequest(job: OrderCancelRequested): Promise<void> {
    const recorded = await this.controls.cancelRequest(job.requestId);
    if (!recorded) throw new UnverifiedJobError(`the gateway recorded no cancel request ${job.requestId}`);
    const differences: string[] = [];
    if (recorded.actorType !== job.actor.type || recorded.actorId !== job.actor.id)
      differences.push(
        `actor: ${job.actor.type}:${job.actor.id} ≠ recorded ${recorded.actorType}:${recorded.actorId}`,
      );
    if ((recorded.actorKeyId ?? undefined) !== job.actor.keyId) differences.push('actor.keyId differs');
    const target = job.target;
    if (recorded.targetKind !== target.kind)
      differences.push(`target: ${target.kind} ≠ recorded ${recorded.targetKind}`);
    else if (target.kind === 'order' && recorded.intentId !== target.intentId)
      differences.push(`target order ${target.intentId} ≠ recorded ${recorded.intentId ?? '(none)'}`);
    else if (target.kind === 'symbol' && recorded.symbol !== target.symbol)
      differences.push(`target symbol ${target.symbol} ≠ recorded ${recorded.symbol ?? '(none)'}`);
    if (differences.length) {
      throw new UnverifiedJobError(
        `the job differs from cancel request ${job.requestId} as the gateway recorded it: ${differences.join('; ')}`,
      );
    }
  }

  /**
   * May this order be placed or keep working now: on a live venue only while live trading is enabled
   * there, and given the trading state (and, when it matters, our position)?
   */
  private async verdict(
    tx: EntityManager,
    order: OrderRecord,
    trading?: TradingStateReading,
  ): Promise<Verdict> {
    if (this.exchange.live && !(await this.controls.liveEnabled(tx, this.exchange.venue))) {
      return {
        allowed: false,
        reasonCode: RiskReasonCode.VenueNotLive,
        reason: `live trading on ${this.exchange.venue} is not enabled (two approvers must enable it)`,
      };
    }
    const { state, reason } = trading ?? (await this.controls.tradingState(tx));
    if (state === TradingState.Active && !order.reduceOnly) return { allowed: true };
    // The position row stays locked: two reduce-only orders on one symbol are judged one after the other.
    const position = await this.orders.lockPositionQuantity(tx, order.symbol);
    const reserved = await this.orders.reservedQuantity(tx, order, state === TradingState.Halted);
    const reduces = reducesPosition(
      position,
      order.side,
      order.quantity.minus(order.filledQuantity),
      reserved,
    );
    const verdict = placementVerdict(state, order.reduceOnly, reduces);
    // An order the halt stops carries the halt's own reason, as the kill's cancel-all records it: whichever
    // of the two reaches the order first, the operator reads the same why.
    return verdict.reasonCode === RiskReasonCode.TradingHalted ? { ...verdict, reason } : verdict;
  }
}

function toExchangeOrder(order: OrderRecord): ExchangeOrder {
  return {
    id: order.id,
    clientOrderId: order.clientOrderId,
    venueOrderId: order.venueOrderId,
    symbol: order.symbol,
    side: order.side,
    type: order.type,
    quantity: order.quantity,
    price: order.price,
    timeInForce: order.timeInForce,
    postOnly: order.postOnly,
  };
}

/** An operator cancelled the order before it reached execution (DELETE /v1/orders/:id): never placed. */
function operatorCancelRefusal(
  cancel: { requestId: string; actorId: string } | undefined,
): Refusal | undefined {
  if (!cancel) return undefined;
  return {
    reasonCode: RiskReasonCode.CancelledByOperator,
    reason: `cancelled by ${cancel.actorId} before it was placed`,
    figures: { requestId: cancel.requestId },
  };
}

/** An order accepted before a halt (waiting on the queue) is not placed after it. */
function haltRefusal(trading: TradingStateReading, reduceOnly: boolean): Refusal | undefined {
  if (reduceOnly || trading.state !== TradingState.Halted) return undefined;
  return { reasonCode: RiskReasonCode.TradingHalted, reason: 'trading is halted: the order is not placed' };
}
