import { Inject, Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import type { EntityManager } from 'typeorm';
import {
  ApprovalKind,
  AuditAction,
  JobName,
  OrderStatus,
  OrderType,
  RiskReasonCode,
  SCHEMA_VERSION,
  ServiceName,
  TradingState,
  actionHash,
  applyFill,
  cancelAllDifferences,
  approvalProblem,
  findMarket,
  money,
  orderAction,
  recordedOrderDifferences,
  serviceActor,
  toWire,
  type AuditEvent,
  type ExecutionReported,
  type Money,
  type OrderAccepted,
  type OrdersCancelAll,
} from '@desk/contracts';
import { MarketPriceStore, Outbox, UnverifiedJobError, uuidFromHash } from '@desk/platform';
import { EXECUTION_CONFIG, type ExecutionConfig } from '../../config';
import {
  EXCHANGE_ADAPTER,
  type ExchangeAdapter,
  type ExchangeFill,
  type ExchangeOrder,
  type ExchangeOrderState,
} from '../exchange/exchange-adapter';
import { ControlsRepository } from './controls.repository';
import {
  describeNotional,
  isCritical,
  notionalOf,
  placementVerdict,
  reasonDetail,
  reducesPosition,
  type Verdict,
} from './order-guard';
import { observeOrderToFill } from './execution-metrics.service';
import { OrdersRepository, type OrderRecord } from './orders.repository';

type ReportedStatus = ExecutionReported['status'];

interface Refusal {
  readonly reasonCode: RiskReasonCode;
  readonly reason: string;
  readonly figures?: Record<string, string>;
}

/**
 * The order lifecycle at execution: record an accepted order (SUBMITTED), place it at the venue, and move
 * it to OPEN or FILLED. Every transition, its fill and position change, and the jobs announcing them
 * (execution report to risk, audit events) are written in one transaction.
 *
 * Execution trusts no job's claims: it places an order only if risk accepted exactly that order
 * (risk.order_decisions), computes an order's criticality itself and places a critical order only under a
 * valid approval (gateway.approval_validity), and it re-reads the trading state
 * (risk.trading_state) before every placement and every fill, so an order queued before a kill is never
 * executed after it.
 */
@Injectable()
export class OrderExecutionService {
  private readonly logger = new Logger(OrderExecutionService.name);
  private readonly actor = serviceActor(ServiceName.Execution);
  private readonly threshold: Money;

  constructor(
    @Inject(EXECUTION_CONFIG) config: ExecutionConfig,
    @Inject(OrdersRepository) private readonly orders: OrdersRepository,
    @Inject(ControlsRepository) private readonly controls: ControlsRepository,
    @Inject(MarketPriceStore) private readonly prices: MarketPriceStore,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(EXCHANGE_ADAPTER) private readonly exchange: ExchangeAdapter,
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
    if (!findMarket(job.order.symbol)) {
      throw new UnrecoverableError(`order ${orderId}: no market ${job.order.symbol} in the catalog`);
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

    const outcome = await this.orders.transaction(async (tx) => {
      const order: OrderRecord = {
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
      };
      const refusal =
        (critical ? await this.approvalRefusal(tx, job, notional) : undefined) ??
        (await this.haltRefusal(tx, reduceOnly));
      const at = new Date();
      if (refusal) {
        if (!(await this.orders.insertOrder(tx, { ...order, status: OrderStatus.Cancelled }))) {
          return { created: false };
        }
        const detail = reasonDetail(refusal.reasonCode, refusal.reason);
        await this.transition(tx, order, OrderStatus.Cancelled, at, {
          reasonCode: refusal.reasonCode,
          detail,
        });
        await this.audit(tx, order, AuditAction.OrderRefused, `${AuditAction.OrderRefused}:${orderId}`, at, {
          reasonCode: refusal.reasonCode,
          reason: refusal.reason,
          venue: order.venue,
          ...job.order,
          requestedBy: job.actor,
          acceptedAt: job.acceptedAt,
          ...(job.approvalId ? { approvalId: job.approvalId } : {}),
          ...(refusal.figures ?? {}),
        });
        return { created: true, refused: refusal.reasonCode };
      }
      if (!(await this.orders.insertOrder(tx, order))) return { created: false };
      await this.transition(tx, order, OrderStatus.Submitted, at);
      await this.audit(
        tx,
        order,
        AuditAction.OrderSubmitted,
        `${AuditAction.OrderSubmitted}:${orderId}`,
        at,
        {
          venue: order.venue,
          ...job.order,
          requestedBy: job.actor,
          acceptedAt: job.acceptedAt,
          ...(reduceOnly ? { reduceOnly } : {}),
          ...(job.approvalId ? { approvalId: job.approvalId } : {}),
        },
      );
      return { created: true };
    });
    void this.outbox.flush();
    if (outcome.created && !outcome.refused) {
      try {
        await this.advance(orderId);
      } catch (error) {
        // The order is recorded; the tick loop places it. Retrying the job would only find it recorded.
        this.logger.warn({ err: error, orderId }, 'placing the order failed; the tick loop will retry');
      }
    }
    return { orderId, ...outcome };
  }

  /**
   * Risk must have ACCEPTED this intent with exactly this actor, these parameters, this reduce-only flag
   * and this approval: otherwise the job did not come from risk's decision, and nothing is recorded for
   * the intent (a forgery naming a real intent id must not block the real order). Risk's decision is final
   * once ACCEPTED, so reading it outside the order's transaction is enough.
   */
  private async verifyAccepted(job: OrderAccepted): Promise<void> {
    const decided = await this.controls.orderDecision(job.intentId);
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

  /** An order accepted before a halt (waiting on the queue) is not placed after it. */
  private async haltRefusal(tx: EntityManager, reduceOnly: boolean): Promise<Refusal | undefined> {
    if (reduceOnly || (await this.controls.tradingState(tx)).state !== TradingState.Halted) return undefined;
    return { reasonCode: RiskReasonCode.TradingHalted, reason: 'trading is halted: the order is not placed' };
  }

  /**
   * Places a SUBMITTED order or checks an OPEN (or UNKNOWN) one at the venue and records what changed;
   * first re-reads the trading state and cancels an order the desk may no longer execute. The row lock
   * (SKIP LOCKED) makes sure two execution instances never work on the same order at once.
   * Returns the order's status afterwards, or undefined when it was not ours to work on.
   */
  async advance(orderId: string): Promise<OrderStatus | undefined> {
    const outcome = await this.orders.transaction(async (tx) => {
      const order = await this.orders.lockActiveOrder(tx, orderId, { skipLocked: true });
      if (!order) return undefined;
      const verdict = await this.verdict(tx, order);
      if (!verdict.allowed) {
        await this.cancel(
          tx,
          order,
          verdict.reasonCode ?? RiskReasonCode.TradingHalted,
          verdict.reason ?? '',
        );
        return { status: OrderStatus.Cancelled, changed: true };
      }
      const request = toExchangeOrder(order);
      let state: ExchangeOrderState;
      if (order.status === OrderStatus.Submitted) {
        try {
          state = await this.exchange.placeOrder(request);
        } catch (error) {
          await this.markUnknown(tx, order, error);
          return { status: OrderStatus.Unknown, changed: true };
        }
      } else {
        state = await this.exchange.fetchOrderByClientId(request);
      }
      switch (state.state) {
        case 'open':
          if (order.status === OrderStatus.Open) return { status: OrderStatus.Open, changed: false };
          await this.markOpen(tx, order, state.detail);
          return { status: OrderStatus.Open, changed: true };
        case 'filled':
          await this.markFilled(tx, order, state.fill);
          return { status: OrderStatus.Filled, changed: true, since: order.createdAt };
        default: {
          const unreachable: never = state;
          throw new Error(`unknown venue state ${JSON.stringify(unreachable)}`);
        }
      }
    });
    if (outcome?.changed) void this.outbox.flush();
    if (outcome && 'since' in outcome && outcome.since) observeOrderToFill(outcome.since);
    return outcome?.status;
  }

  /**
   * The kill switch at execution: cancels every order that may still fill and was recorded before the
   * kill, except risk's own reduce-only closes (a kill with flatten sends those). Each order in its own
   * transaction; an order a tick is working on is waited for, then cancelled if it is still active.
   */
  async cancelAll(job: OrdersCancelAll): Promise<{ cancelled: number }> {
    await this.verifyCancelAll(job);
    let cancelled = 0;
    for (const id of await this.orders.cancellableOrderIds(new Date(job.requestedAt))) {
      const done = await this.orders.transaction(async (tx) => {
        // Waits for a tick working on the order: skipping it would leave it working after the kill.
        const order = await this.orders.lockActiveOrder(tx, id, { skipLocked: false });
        if (!order || order.reduceOnly) return false;
        await this.cancel(tx, order, job.reasonCode, job.reason, {
          commandId: job.commandId,
          requestedBy: job.actor,
        });
        return true;
      });
      if (done) cancelled += 1;
    }
    await this.orders.recordCancelAll(job.commandId, cancelled);
    void this.outbox.flush();
    if (cancelled) this.logger.warn({ commandId: job.commandId, cancelled }, 'cancelled every open order');
    return { cancelled };
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
   * May this order be placed or filled now: on a live venue only while live trading is enabled there, and
   * given the trading state (and, when it matters, our position)?
   */
  private async verdict(tx: EntityManager, order: OrderRecord): Promise<Verdict> {
    if (this.exchange.live && !(await this.controls.liveEnabled(tx, this.exchange.venue))) {
      return {
        allowed: false,
        reasonCode: RiskReasonCode.VenueNotLive,
        reason: `live trading on ${this.exchange.venue} is not enabled (two approvers must enable it)`,
      };
    }
    const { state, reason } = await this.controls.tradingState(tx);
    if (state === TradingState.Active && !order.reduceOnly) return { allowed: true };
    // The position row stays locked: two reduce-only orders on one symbol are judged one after the other.
    const position = await this.orders.lockPositionQuantity(tx, order.symbol);
    const reserved = await this.orders.reservedQuantity(tx, order, state === TradingState.Halted);
    const reduces = reducesPosition(position, order.side, order.quantity, reserved);
    const verdict = placementVerdict(state, order.reduceOnly, reduces);
    // An order the halt stops carries the halt's own reason, as the kill's cancel-all records it: whichever
    // of the two reaches the order first, the operator reads the same why.
    return verdict.reasonCode === RiskReasonCode.TradingHalted ? { ...verdict, reason } : verdict;
  }

  /** Takes an order off the venue (if it was placed) and records it CANCELLED with its reason code. */
  private async cancel(
    tx: EntityManager,
    order: OrderRecord,
    reasonCode: string,
    reason: string,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    const placed = order.status !== OrderStatus.Submitted;
    if (placed) await this.exchange.cancelOrder(toExchangeOrder(order));
    const at = new Date();
    const detail = reasonDetail(reasonCode, reason);
    await this.orders.setStatus(tx, order.id, OrderStatus.Cancelled);
    await this.transition(tx, order, OrderStatus.Cancelled, at, { reasonCode, detail });
    // Never placed: refused; placed and resting: cancelled.
    const action = placed ? AuditAction.OrderCancelled : AuditAction.OrderRefused;
    await this.audit(tx, order, action, `${action}:${order.id}`, at, {
      reasonCode,
      reason,
      previousStatus: order.status,
      venue: order.venue,
      symbol: order.symbol,
      side: order.side,
      type: order.type,
      quantity: toWire(order.quantity),
      ...(order.price ? { price: toWire(order.price) } : {}),
      ...extra,
    });
  }

  /** The venue failed to take the order: its fate is UNKNOWN until the tick loop asks the venue again. */
  private async markUnknown(tx: EntityManager, order: OrderRecord, error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    this.logger.warn({ err: error, orderId: order.id }, 'the venue did not take the order');
    const at = new Date();
    const detail = reasonDetail(RiskReasonCode.VenueError, message);
    await this.orders.setStatus(tx, order.id, OrderStatus.Unknown);
    await this.transition(tx, order, OrderStatus.Unknown, at, {
      reasonCode: RiskReasonCode.VenueError,
      detail,
    });
    await this.audit(tx, order, AuditAction.OrderUnknown, `${AuditAction.OrderUnknown}:${order.id}`, at, {
      reasonCode: RiskReasonCode.VenueError,
      reason: message.slice(0, 500),
      venue: order.venue,
      symbol: order.symbol,
      side: order.side,
      quantity: toWire(order.quantity),
    });
  }

  private async markOpen(tx: EntityManager, order: OrderRecord, detail: string): Promise<void> {
    const at = new Date();
    await this.orders.setStatus(tx, order.id, OrderStatus.Open);
    await this.transition(tx, order, OrderStatus.Open, at, { detail });
    await this.audit(tx, order, AuditAction.OrderOpen, `${AuditAction.OrderOpen}:${order.id}`, at, {
      venue: order.venue,
      symbol: order.symbol,
      side: order.side,
      type: order.type,
      quantity: toWire(order.quantity),
      ...(order.price ? { price: toWire(order.price) } : {}),
      reason: detail,
    });
  }

  private async markFilled(tx: EntityManager, order: OrderRecord, fill: ExchangeFill): Promise<void> {
    // Full fills only, so an order has exactly one fill.
    const fillId = `${order.id}-1`;
    const wire = {
      fillId,
      price: toWire(fill.price),
      quantity: toWire(fill.quantity),
      fee: toWire(fill.fee),
      feeCurrency: fill.feeCurrency,
    };
    await this.orders.recordFill(tx, order, fillId, fill);
    const before = await this.orders.lockPosition(tx, order.symbol);
    const position = applyFill(before, {
      side: order.side,
      quantity: fill.quantity,
      price: fill.price,
      fee: fill.fee,
    });
    await this.orders.savePosition(tx, order.symbol, position);

    await this.transition(tx, order, OrderStatus.Filled, fill.at, {
      fill: wire,
      eventDetail: `${wire.quantity} @ ${wire.price}`,
    });
    await this.audit(
      tx,
      order,
      AuditAction.OrderFilled,
      `${AuditAction.OrderFilled}:${order.id}:${fillId}`,
      fill.at,
      {
        venue: order.venue,
        symbol: order.symbol,
        side: order.side,
        type: order.type,
        ...wire,
        notional: toWire(fill.price.times(fill.quantity)),
      },
    );
    await this.outbox.add(tx, JobName.AuditEvent, {
      schemaVersion: SCHEMA_VERSION,
      eventId: uuidFromHash(`${AuditAction.PositionUpdated}:${order.symbol}:${fillId}`),
      occurredAt: fill.at.toISOString(),
      actor: this.actor,
      action: AuditAction.PositionUpdated,
      subject: { type: 'position', id: order.symbol },
      payload: {
        symbol: order.symbol,
        fillId,
        quantity: toWire(position.quantity),
        averagePrice: toWire(position.averagePrice),
        realizedPnl: toWire(position.realizedPnl),
        realizedPnlChange: toWire(position.realized),
        feesPaid: toWire(position.feesPaid),
        previousQuantity: toWire(before.quantity),
      },
      correlationId: order.correlationId,
    });
  }

  /**
   * Records a transition in the order's history and announces it in the same transaction: to risk
   * (`execution.reported`, for its positions and exposure) and to the gateway's order projection
   * (`order.updated`: execution owns the order's state from placement to fill). A transition already
   * recorded (a redelivered job) announces nothing new: the job ids are the same.
   */
  private async transition(
    tx: EntityManager,
    order: OrderRecord,
    status: ReportedStatus,
    at: Date,
    extra: {
      fill?: ExecutionReported['fill'];
      reasonCode?: string;
      detail?: string;
      eventDetail?: string;
    } = {},
  ): Promise<void> {
    const { fill, reasonCode, detail } = extra;
    const eventDetail = extra.eventDetail ?? detail;
    const seq = await this.orders.addEvent(tx, order.id, status, eventDetail ?? null, at);
    await this.outbox.add(tx, JobName.ExecutionReported, {
      schemaVersion: SCHEMA_VERSION,
      correlationId: order.correlationId,
      intentId: order.id,
      symbol: order.symbol,
      side: order.side,
      status,
      ...(fill ? { fill } : {}),
      ...(reasonCode ? { reasonCode } : {}),
      ...(detail ? { detail } : {}),
      at: at.toISOString(),
    });
    if (seq === undefined) return;
    await this.outbox.add(tx, JobName.OrderUpdated, {
      schemaVersion: SCHEMA_VERSION,
      correlationId: order.correlationId,
      intentId: order.id,
      owner: ServiceName.Execution,
      seq,
      status,
      ...(reasonCode ? { reasonCode } : {}),
      ...(eventDetail ? { detail: eventDetail.slice(0, 500) } : {}),
      at: at.toISOString(),
      order: {
        symbol: order.symbol,
        side: order.side,
        type: order.type,
        quantity: toWire(order.quantity),
        ...(order.price ? { price: toWire(order.price) } : {}),
      },
      ...(fill ? { fill: { ...fill, at: at.toISOString() } } : {}),
    });
  }

  /** An audit event about the order; the event id is derived from `key`, so it is recorded once. */
  private async audit(
    tx: EntityManager,
    order: OrderRecord,
    action: AuditAction,
    key: string,
    at: Date,
    payload: AuditEvent['payload'],
  ): Promise<void> {
    await this.outbox.add(tx, JobName.AuditEvent, {
      schemaVersion: SCHEMA_VERSION,
      eventId: uuidFromHash(key),
      occurredAt: at.toISOString(),
      actor: this.actor,
      action,
      subject: { type: 'order', id: order.id },
      payload,
      correlationId: order.correlationId,
    });
  }
}

function toExchangeOrder(order: OrderRecord): ExchangeOrder {
  return {
    clientOrderId: order.id,
    symbol: order.symbol,
    side: order.side,
    type: order.type,
    quantity: order.quantity,
    price: order.price,
  };
}
