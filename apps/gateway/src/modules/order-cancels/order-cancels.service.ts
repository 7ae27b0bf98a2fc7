import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  AuditAction,
  JobName,
  MARKET_CATALOG,
  OrderStatus,
  SCHEMA_VERSION,
  findMarket,
  type Actor,
} from '@desk/contracts';
import { AppError, ErrorCode, Outbox } from '@desk/platform';
import { parseInput } from '../../http/zod-input';
import { UUID_RE } from '../../http/uuid';
import {
  IdempotencyService,
  type IdempotentResponse,
  type WorkResult,
} from '../idempotency/idempotency.service';
import { CancelRequestsRepository, type CancelTarget } from './cancel-requests.repository';
import {
  CANCEL_REQUESTED,
  cancelAllSchema,
  type OrderAlreadyEndedView,
  type OrderCancelRequestedView,
  type SymbolCancelRequestedView,
} from './order-cancels.dto';

export interface CancelCommand {
  actor: Actor;
  idempotencyKey: string | undefined;
  correlationId: string;
}

/** What a cancel of one order does, by the order's status in the projection. */
type Cancellability = 'cancel' | 'ended' | 'not-cancellable';

function cancellability(status: OrderStatus): Cancellability {
  switch (status) {
    // Still with the gateway, risk, an approval or execution: execution cancels whatever it holds or will.
    case OrderStatus.Received:
    case OrderStatus.PendingApproval:
    case OrderStatus.Accepted:
    case OrderStatus.Submitted:
    case OrderStatus.Placing:
    case OrderStatus.Open:
    case OrderStatus.PartiallyFilled:
    case OrderStatus.Unknown:
      return 'cancel';
    case OrderStatus.Cancelled:
    case OrderStatus.Expired:
      return 'ended';
    case OrderStatus.Filled:
    case OrderStatus.Rejected:
    case OrderStatus.VenueRejected:
      return 'not-cancellable';
    default: {
      const unreachable: never = status;
      throw new Error(`unknown order status ${String(unreachable)}`);
    }
  }
}

/**
 * An operator's cancels (trader role): one order, or every working order of a symbol. The gateway records
 * the request (gateway.cancel_requests, which execution checks every job against), its job for execution
 * and its audit event in one transaction; execution cancels at the venue and records who asked.
 *
 * Asking twice while the first request has not run (execution has written no receipt) answers the first
 * request: an impatient operator's retries add nothing.
 */
@Injectable()
export class OrderCancelsService {
  constructor(
    @Inject(IdempotencyService) private readonly idempotency: IdempotencyService,
    @Inject(CancelRequestsRepository) private readonly requests: CancelRequestsRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  async cancelOrder(command: CancelCommand, id: string): Promise<IdempotentResponse> {
    IdempotencyService.checkKey(command.idempotencyKey, false);
    const orderId = id.toLowerCase();
    if (!UUID_RE.test(orderId))
      throw AppError.validation([{ field: 'id', reason: 'must be an order id (uuid)' }]);
    return this.idempotency.execute(
      {
        actorId: command.actor.id,
        key: command.idempotencyKey,
        required: false,
        method: 'DELETE',
        path: `/v1/orders/${orderId}`,
        canonicalBody: {},
      },
      async (tx): Promise<WorkResult<OrderCancelRequestedView | OrderAlreadyEndedView>> => {
        const status = await this.requests.lockOrder(tx, orderId);
        if (status === undefined) throw AppError.notFound('order');
        const outcome = cancellability(status);
        switch (outcome) {
          case 'ended':
            return { status: 200, body: { orderId, status } };
          case 'not-cancellable':
            throw new AppError(
              ErrorCode.OrderNotCancellable,
              `order ${orderId} is ${status}: there is nothing left to cancel`,
            );
          case 'cancel': {
            const requestId = await this.request(tx, command, { kind: 'order', intentId: orderId });
            return { status: 202, body: { requestId, orderId, status: CANCEL_REQUESTED } };
          }
          default: {
            const unreachable: never = outcome;
            throw new Error(`unknown outcome ${String(unreachable)}`);
          }
        }
      },
    );
  }

  /**
   * Every working order of a symbol. Any symbol of the market catalog, enabled or not: a symbol the desk
   * stopped trading may still have orders working at the venue.
   */
  async cancelSymbol(command: CancelCommand, body: unknown): Promise<IdempotentResponse> {
    IdempotencyService.checkKey(command.idempotencyKey, false);
    const { symbol } = parseInput(cancelAllSchema, body);
    if (!findMarket(symbol)) {
      throw AppError.validation([
        {
          field: 'symbol',
          reason: `unknown symbol; known: ${MARKET_CATALOG.map((m) => m.symbol).join(', ')}`,
        },
      ]);
    }
    return this.idempotency.execute(
      {
        actorId: command.actor.id,
        key: command.idempotencyKey,
        required: false,
        method: 'POST',
        path: '/v1/orders/cancel-all',
        canonicalBody: { symbol },
      },
      async (tx): Promise<WorkResult<SymbolCancelRequestedView>> => {
        await this.requests.lockSymbol(tx, symbol);
        const requestId = await this.request(tx, command, { kind: 'symbol', symbol });
        return { status: 202, body: { requestId, symbol, status: CANCEL_REQUESTED } };
      },
    );
  }

  /** The pending request for the target, or a new one: recorded, sent to execution and audited. */
  private async request(tx: EntityManager, command: CancelCommand, target: CancelTarget): Promise<string> {
    const pending = await this.requests.pending(tx, target);
    if (pending) return pending.id;
    const requestId = randomUUID();
    const requestedAt = new Date();
    // Execution cancels only what this record asked for (docs/adr/0010).
    await this.requests.insert(tx, {
      id: requestId,
      actor: command.actor,
      target,
      requestedAt,
      correlationId: command.correlationId,
    });
    await this.outbox.add(tx, JobName.OrderCancelRequested, {
      schemaVersion: SCHEMA_VERSION,
      correlationId: command.correlationId,
      requestId,
      actor: command.actor,
      target,
      requestedAt: requestedAt.toISOString(),
    });
    await this.outbox.addAudit(tx, {
      actor: command.actor,
      action: AuditAction.OrderCancelRequested,
      subject:
        target.kind === 'order'
          ? { type: 'order', id: target.intentId }
          : { type: 'symbol', id: target.symbol },
      payload: { requestId, target },
      correlationId: command.correlationId,
    });
    return requestId;
  }
}
