import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  AuditAction,
  JobName,
  OrderStatus,
  SCHEMA_VERSION,
  ServiceName,
  applyFill,
  money,
  serviceActor,
  toWire,
  type AuditEvent,
  type ExecutionReported,
  type Money,
  type PositionAmounts,
} from '@desk/contracts';
import { Outbox, uuidFromHash } from '@desk/platform';
import type { ExchangeFill } from '../exchange/exchange-adapter';
import { OrdersRepository, type OrderRecord } from './orders.repository';

type ReportedStatus = ExecutionReported['status'];

/** Statuses that change neither risk's exposure nor its error count: risk is not told of them. */
const NOT_REPORTED_TO_RISK: ReadonlySet<ReportedStatus> = new Set([
  OrderStatus.Submitted,
  OrderStatus.Placing,
  OrderStatus.Open,
]);

/** The audit action recording that an order moved into a status. */
const ACTION_OF: Readonly<Record<ReportedStatus, AuditAction>> = {
  [OrderStatus.Submitted]: AuditAction.OrderSubmitted,
  [OrderStatus.Placing]: AuditAction.OrderPlacing,
  [OrderStatus.Open]: AuditAction.OrderOpen,
  [OrderStatus.PartiallyFilled]: AuditAction.OrderPartiallyFilled,
  [OrderStatus.Filled]: AuditAction.OrderFilled,
  [OrderStatus.Cancelled]: AuditAction.OrderCancelled,
  [OrderStatus.Expired]: AuditAction.OrderExpired,
  [OrderStatus.VenueRejected]: AuditAction.OrderVenueRejected,
  [OrderStatus.Unknown]: AuditAction.OrderUnknown,
};

/** What a transition records beside its status (OrderRecorder.transition). */
export interface TransitionExtra {
  readonly reasonCode?: string;
  readonly detail?: string;
  readonly audit?: AuditEvent['payload'];
  readonly action?: AuditAction;
  readonly key?: string;
  readonly fill?: ExecutionReported['fill'];
}

/**
 * Writes an order's transitions at execution, each in the caller's transaction: the history event, the
 * order's status, the jobs announcing it (execution report to risk, order update to the gateway's
 * projection) and its audit event; for a fill also the fill, the position and its audit event. Execution
 * owns an order's state from SUBMITTED on; nothing here calls a venue.
 */
@Injectable()
export class OrderRecorder {
  private readonly actor = serviceActor(ServiceName.Execution);

  constructor(
    @Inject(OrdersRepository) private readonly orders: OrdersRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  /**
   * Moves the order into `status` and records why. `audit`: the audit payload's extra fields (the order's
   * parameters are always there). `action` overrides the audit action (a cancel before placement is a
   * refusal). `key`: the history event's key (default: the status and its position in the history).
   */
  async transition(
    tx: EntityManager,
    order: OrderRecord,
    status: ReportedStatus,
    at: Date,
    extra: TransitionExtra = {},
  ): Promise<void> {
    const seq = await this.orders.addEvent(
      tx,
      order.id,
      status,
      extra.detail ?? null,
      at,
      extra.key,
      extra.reasonCode,
    );
    // Already recorded: nothing is announced twice.
    if (seq === undefined) return;
    await this.announce(tx, order, status, at, seq, extra);
  }

  /**
   * The rest of a transition whose history event is recorded (`seq`: the event's id), in the caller's
   * transaction: the jobs announcing it and its audit event (a batch that records many events in one
   * statement announces each here).
   */
  async announce(
    tx: EntityManager,
    order: OrderRecord,
    status: ReportedStatus,
    at: Date,
    seq: string,
    extra: TransitionExtra = {},
  ): Promise<void> {
    await this.jobs(tx, order, status, at, seq, extra);
    const action = extra.action ?? ACTION_OF[status];
    await this.audit(tx, order, action, `${action}:${order.id}:${extra.key ?? seq}`, at, {
      venue: order.venue,
      symbol: order.symbol,
      side: order.side,
      type: order.type,
      quantity: toWire(order.quantity),
      ...(order.price ? { price: toWire(order.price) } : {}),
      ...(order.timeInForce ? { timeInForce: order.timeInForce } : {}),
      ...(order.postOnly ? { postOnly: true } : {}),
      previousStatus: order.status,
      ...(extra.reasonCode ? { reasonCode: extra.reasonCode } : {}),
      ...(extra.detail ? { reason: extra.detail.slice(0, 500) } : {}),
      ...(extra.audit ?? {}),
    });
  }

  /**
   * Records one trade of the order (once: undefined when it was already recorded), moves the position, and
   * announces the fill: PARTIALLY_FILLED, or FILLED when the order's fills now add up to its quantity.
   * Returns the order as it stands after the fill. `positions`: the transaction's held positions (a batch
   * locks each symbol's once and writes it back once); without, the position is locked and written here.
   */
  async fill(
    tx: EntityManager,
    order: OrderRecord,
    fill: ExchangeFill,
    reasonCode?: string,
    positions?: HeldPositions,
  ): Promise<OrderRecord | undefined> {
    const fillId = fillIdOf(order.id, fill.tradeId);
    const filledQuantity = order.filledQuantity.plus(fill.quantity);
    const status = filledQuantity.gte(order.quantity) ? OrderStatus.Filled : OrderStatus.PartiallyFilled;
    const wire = {
      fillId,
      price: toWire(fill.price),
      quantity: toWire(fill.quantity),
      fee: toWire(fill.fee),
      feeCurrency: fill.feeCurrency,
    };
    const key = `FILL:${fill.tradeId}`;
    const detail = `${wire.quantity} @ ${wire.price}`;
    const { recorded, seq } = await this.orders.recordFillEvent(tx, order, fillId, fill, {
      status,
      detail,
      key,
      ...(reasonCode ? { reasonCode } : {}),
    });
    if (!recorded) return undefined;
    const held = positions ?? new HeldPositions(this.orders, tx);
    const before = await held.lock(order.symbol);
    const position = applyFill(before, {
      side: order.side,
      quantity: fill.quantity,
      price: fill.price,
      fee: feeInQuote(order.symbol, fill),
    });
    held.set(order.symbol, position);
    if (!positions) await held.save();
    if (seq !== undefined)
      await this.announce(tx, order, status, fill.at, seq, {
        key,
        fill: wire,
        ...(reasonCode ? { reasonCode } : {}),
        detail,
        audit: {
          ...wire,
          tradeId: fill.tradeId,
          filledQuantity: toWire(filledQuantity),
          notional: toWire(fill.price.times(fill.quantity)),
        },
      });
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
    return { ...order, status, filledQuantity };
  }

  /** An audit event about the order; the event id is derived from `key`, so it is recorded once. */
  async audit(
    tx: EntityManager,
    order: Pick<OrderRecord, 'id' | 'correlationId'>,
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

  /**
   * The jobs announcing a recorded transition: to risk (`execution.reported`, for its positions and
   * exposure) and to the gateway's order projection (`order.updated`, ordered by `seq`).
   */
  private async jobs(
    tx: EntityManager,
    order: OrderRecord,
    status: ReportedStatus,
    at: Date,
    seq: string,
    extra: TransitionExtra,
  ): Promise<void> {
    const { reasonCode, detail, fill } = extra;
    // Risk follows what changes exposure and what fails (fills, ends, UNKNOWN). SUBMITTED, PLACING and OPEN
    // change neither (risk counts an accepted order as pending until it ends): the projection and the audit
    // log show them, and risk is spared a job and a book-locked transaction per order (docs/adr/0024).
    if (!NOT_REPORTED_TO_RISK.has(status))
      await this.outbox.add(tx, JobName.ExecutionReported, {
        schemaVersion: SCHEMA_VERSION,
        correlationId: order.correlationId,
        intentId: order.id,
        symbol: order.symbol,
        side: order.side,
        status,
        ...(fill ? { fill } : {}),
        ...(reasonCode ? { reasonCode } : {}),
        ...(detail ? { detail: detail.slice(0, 500) } : {}),
        at: at.toISOString(),
      });
    await this.outbox.add(tx, JobName.OrderUpdated, {
      schemaVersion: SCHEMA_VERSION,
      correlationId: order.correlationId,
      intentId: order.id,
      owner: ServiceName.Execution,
      seq,
      status,
      ...(reasonCode ? { reasonCode } : {}),
      ...(detail ? { detail: detail.slice(0, 500) } : {}),
      at: at.toISOString(),
      order: {
        symbol: order.symbol,
        side: order.side,
        type: order.type,
        quantity: toWire(order.quantity),
        ...(order.price ? { price: toWire(order.price) } : {}),
        ...(order.timeInForce ? { timeInForce: order.timeInForce } : {}),
        ...(order.postOnly ? { postOnly: true } : {}),
      },
      ...(fill ? { fill: { ...fill, at: at.toISOString() } } : {}),
    });
  }
}

/**
 * The positions one transaction moves: each symbol's row locked once (its first fill) and kept in memory
 * while the transaction records its fills, then written back once, in one statement (save(), before the
 * transaction commits). Nothing else in the transaction reads a position it holds.
 */
export class HeldPositions {
  private readonly held = new Map<string, PositionAmounts>();

  constructor(
    private readonly orders: OrdersRepository,
    private readonly tx: EntityManager,
  ) {}

  /** The symbol's position as this transaction has moved it so far (locked on first use). */
  async lock(symbol: string): Promise<PositionAmounts> {
    const held = this.held.get(symbol);
    if (held) return held;
    const locked = await this.orders.lockPosition(this.tx, symbol);
    this.held.set(symbol, locked);
    return locked;
  }

  set(symbol: string, position: PositionAmounts): void {
    this.held.set(symbol, position);
  }

  /** Writes every held position back (call once, before the transaction commits). */
  async save(): Promise<void> {
    await this.orders.savePositions(this.tx, this.held);
  }
}

/**
 * A fill's id: the order's id and the venue's trade id, in the characters a BullMQ job id may carry (the
 * fill id is part of the report's job id; ':' is BullMQ's key separator).
 */
export function fillIdOf(orderId: string, tradeId: string): string {
  return `${orderId}-${tradeId.replace(/[^A-Za-z0-9._-]/g, '_')}`.slice(0, 100);
}

/**
 * A fill's fee in the quote currency, as positions and P&L count it: a venue charging the received base
 * asset (Binance without BNB: a buy pays its fee in the base) is converted at the fill's price. A fee in a
 * third asset cannot be valued here: it counts as zero in P&L (it is in the fill record and the balances).
 */
export function feeInQuote(symbol: string, fill: Pick<ExchangeFill, 'fee' | 'feeCurrency' | 'price'>): Money {
  const [base, quote] = symbol.split('/');
  if (fill.feeCurrency === quote || fill.feeCurrency === '') return fill.fee;
  if (fill.feeCurrency === base) return fill.fee.times(fill.price);
  return money('0');
}
