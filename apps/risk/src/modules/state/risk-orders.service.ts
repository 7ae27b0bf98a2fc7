import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  AuditAction,
  IntentSource,
  JobName,
  OrderStatus,
  OrderType,
  SCHEMA_VERSION,
  ServiceName,
  serviceActor,
  toWire,
  type Actor,
  type Money,
  type OrderParams,
  type OrderSide,
} from '@desk/contracts';
import { Outbox, uuidFromHash } from '@desk/platform';
import { BookLockService } from './book-lock.service';
import { IntentsRepository } from './intents.repository';

export interface ClosingOrder {
  /** Deterministic, so the same close is never sent twice (kill command + symbol, position episode). */
  readonly intentId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly quantity: Money;
  /** Who asked: the operator who killed with flatten, or risk itself (stop-loss). */
  readonly actor: Actor;
  readonly origin: 'kill.flatten' | 'stop_loss';
  readonly reason: string;
  readonly correlationId: string;
  /** The numbers that drove it, for the audit event (decimal strings). */
  readonly figures: Record<string, string>;
}

/**
 * Risk's own orders: reduce-only market orders that close a position (kill with flatten, stop-loss). They
 * are intents like any other (source 'risk', in risk.intents with their decision and audit events) and go
 * to execution through the same orders queue, marked reduceOnly: they pass while REDUCING or HALTED, and
 * execution checks against its own position that they only reduce it. No limit applies to them: they
 * exist to take risk off.
 */
@Injectable()
export class RiskOrdersService {
  constructor(
    @Inject(IntentsRepository) private readonly intents: IntentsRepository,
    @Inject(BookLockService) private readonly book: BookLockService,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  /** Records and sends a closing order in the caller's transaction; false if it was already sent. */
  async close(tx: EntityManager, c: ClosingOrder): Promise<boolean> {
    await this.book.hold(tx);
    const now = new Date();
    const at = now.toISOString();
    const order: OrderParams = {
      symbol: c.symbol,
      side: c.side,
      type: OrderType.Market,
      quantity: toWire(c.quantity),
    };
    const inserted = await this.intents.insertDecided(
      tx,
      {
        intentId: c.intentId,
        source: IntentSource.Risk,
        actor: c.actor,
        order,
        correlationId: c.correlationId,
        submittedAt: at,
        reduceOnly: true,
      },
      {
        status: OrderStatus.Accepted,
        reasonCode: null,
        reason: `reduce-only close (${c.origin}): ${c.reason}`.slice(0, 500),
        notional: null,
        referencePrice: null,
        decidedAt: now,
      },
    );
    if (!inserted) return false;
    const subject = { type: 'order', id: c.intentId };
    await this.outbox.addAudit(tx, {
      eventId: uuidFromHash(`${AuditAction.OrderReceived}:${c.intentId}`),
      occurredAt: now,
      actor: c.actor,
      action: AuditAction.OrderReceived,
      subject,
      payload: { source: IntentSource.Risk, origin: c.origin, order, reduceOnly: true },
      correlationId: c.correlationId,
    });
    await this.outbox.add(tx, JobName.OrderAccepted, {
      schemaVersion: SCHEMA_VERSION,
      correlationId: c.correlationId,
      intentId: c.intentId,
      actor: c.actor,
      order,
      acceptedAt: at,
      reduceOnly: true,
    });
    await this.outbox.addAudit(tx, {
      eventId: uuidFromHash(`${AuditAction.OrderAccepted}:${c.intentId}`),
      occurredAt: now,
      actor: serviceActor(ServiceName.Risk),
      action: AuditAction.OrderAccepted,
      subject,
      payload: { origin: c.origin, reduceOnly: true, reason: c.reason, ...c.figures },
      correlationId: c.correlationId,
    });
    return true;
  }
}
