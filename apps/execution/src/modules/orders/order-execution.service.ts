import { Inject, Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import type { EntityManager } from 'typeorm';
import {
  AuditAction,
  JobName,
  OrderStatus,
  SCHEMA_VERSION,
  ServiceName,
  findMarket,
  money,
  serviceActor,
  toWire,
  type AuditEvent,
  type ExecutionReported,
  type OrderAccepted,
} from '@desk/contracts';
import { Outbox, uuidFromHash } from '@desk/platform';
import {
  EXCHANGE_ADAPTER,
  type ExchangeAdapter,
  type ExchangeFill,
  type ExchangeOrder,
  type ExchangeOrderState,
} from '../exchange/exchange-adapter';
import { OrdersRepository, type OrderRecord } from './orders.repository';

type ReportedStatus = ExecutionReported['status'];

/**
 * The order lifecycle at execution: record an accepted order (SUBMITTED), place it at the venue, and move
 * it to OPEN or FILLED. Every transition, its fill and position change, and the jobs announcing them
 * (execution report to risk, audit events) are written in one transaction.
 */
@Injectable()
export class OrderExecutionService {
  private readonly logger = new Logger(OrderExecutionService.name);
  private readonly actor = serviceActor(ServiceName.Execution);

  constructor(
    @Inject(OrdersRepository) private readonly orders: OrdersRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(EXCHANGE_ADAPTER) private readonly exchange: ExchangeAdapter,
  ) {}

  /** Records an accepted order and places it. A redelivered job (same intent id) changes nothing. */
  async handle(job: OrderAccepted): Promise<{ orderId: string; created: boolean }> {
    const orderId = job.intentId;
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
    const created = await this.orders.transaction(async (tx) => {
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
      };
      if (!(await this.orders.insertOrder(tx, order))) return false;
      await this.orders.addEvent(tx, orderId, OrderStatus.Submitted, null);
      const at = new Date();
      await this.report(tx, order, OrderStatus.Submitted, at);
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
        },
      );
      return true;
    });
    void this.outbox.flush();
    if (created) {
      try {
        await this.advance(orderId);
      } catch (error) {
        // The order is recorded; the tick loop places it. Retrying the job would only find it recorded.
        this.logger.warn({ err: error, orderId }, 'placing the order failed; the tick loop will retry');
      }
    }
    return { orderId, created };
  }

  /**
   * Places a SUBMITTED order or checks an OPEN one at the venue and records what changed. The row lock
   * (SKIP LOCKED) makes sure two execution instances never work on the same order at once.
   * Returns the order's status afterwards, or undefined when it was not ours to work on.
   */
  async advance(orderId: string): Promise<OrderStatus | undefined> {
    const outcome = await this.orders.transaction(async (tx) => {
      const order = await this.orders.lockActiveOrder(tx, orderId);
      if (!order) return undefined;
      const request = toExchangeOrder(order);
      const state: ExchangeOrderState =
        order.status === OrderStatus.Submitted
          ? await this.exchange.placeOrder(request)
          : await this.exchange.fetchOrderByClientId(request);
      switch (state.state) {
        case 'open':
          if (order.status === OrderStatus.Open) return { status: OrderStatus.Open, changed: false };
          await this.markOpen(tx, order, state.detail);
          return { status: OrderStatus.Open, changed: true };
        case 'filled':
          await this.markFilled(tx, order, state.fill);
          return { status: OrderStatus.Filled, changed: true };
        default: {
          const unreachable: never = state;
          throw new Error(`unknown venue state ${JSON.stringify(unreachable)}`);
        }
      }
    });
    if (outcome?.changed) void this.outbox.flush();
    return outcome?.status;
  }

  private async markOpen(tx: EntityManager, order: OrderRecord, detail: string): Promise<void> {
    const at = new Date();
    await this.orders.setStatus(tx, order.id, OrderStatus.Open);
    await this.orders.addEvent(tx, order.id, OrderStatus.Open, detail);
    await this.report(tx, order, OrderStatus.Open, at);
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
    await this.orders.addEvent(tx, order.id, OrderStatus.Filled, `${wire.quantity} @ ${wire.price}`);
    const before = await this.orders.lockPosition(tx, order.symbol);
    const { position, realized } = before.apply({
      side: order.side,
      quantity: fill.quantity,
      price: fill.price,
      fee: fill.fee,
    });
    await this.orders.savePosition(tx, position);

    await this.report(tx, order, OrderStatus.Filled, fill.at, wire);
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
        symbol: position.symbol,
        fillId,
        quantity: toWire(position.quantity),
        averagePrice: toWire(position.averagePrice),
        realizedPnl: toWire(position.realizedPnl),
        realizedPnlChange: toWire(realized),
        feesPaid: toWire(position.feesPaid),
        previousQuantity: toWire(before.quantity),
      },
      correlationId: order.correlationId,
    });
  }

  private async report(
    tx: EntityManager,
    order: OrderRecord,
    status: ReportedStatus,
    at: Date,
    fill?: ExecutionReported['fill'],
  ): Promise<void> {
    await this.outbox.add(tx, JobName.ExecutionReported, {
      schemaVersion: SCHEMA_VERSION,
      correlationId: order.correlationId,
      intentId: order.id,
      symbol: order.symbol,
      side: order.side,
      status,
      ...(fill ? { fill } : {}),
      at: at.toISOString(),
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
