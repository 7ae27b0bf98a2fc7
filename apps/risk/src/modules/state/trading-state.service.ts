import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  AuditAction,
  JobName,
  RiskReasonCode,
  SCHEMA_VERSION,
  TradingState,
  type Actor,
  type OrdersCancelAll,
} from '@desk/contracts';
import { Outbox, uuidFromHash } from '@desk/platform';
import { BookLockService } from './book-lock.service';
import { TradingStateRepository, type TradingStateRecord } from './trading-state.repository';

/** How restrictive a state is: breakers only ever move the desk up this scale. */
const SEVERITY: Record<TradingState, number> = {
  [TradingState.Active]: 0,
  [TradingState.Reducing]: 1,
  [TradingState.Halted]: 2,
};

export function isMoreRestrictive(a: TradingState, b: TradingState): boolean {
  return SEVERITY[a] > SEVERITY[b];
}

export interface StateChange {
  readonly to: TradingState;
  readonly reason: string;
  readonly actor: Actor;
  /** 'kill', 'resume', 'breaker.drawdown', … */
  readonly source: string;
  readonly correlationId: string;
  /** The command that asked (kill, resume): makes the audit event and the cancel-all job idempotent. */
  readonly commandId?: string;
  /** Breakers: change only towards a more restrictive state. */
  readonly escalateOnly?: boolean;
  /** The numbers that drove the change (a breaker's limit and measured value), for the audit event. */
  readonly figures?: Record<string, unknown>;
}

export interface StateChangeOutcome {
  readonly from: TradingState;
  readonly to: TradingState;
  /** False when escalateOnly found the desk already at least as restricted. */
  readonly applied: boolean;
}

/**
 * Moves the desk between ACTIVE, REDUCING and HALTED inside the caller's transaction: the row, its audit
 * event and, on HALTED, the job that cancels every open order at execution and its record
 * (risk.cancel_all_requests) commit together.
 */
@Injectable()
export class TradingStateService {
  constructor(
    @Inject(TradingStateRepository) private readonly repository: TradingStateRepository,
    @Inject(BookLockService) private readonly book: BookLockService,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  get(): Promise<TradingStateRecord> {
    return this.repository.get();
  }

  /** The current state, locked until the transaction ends (state changes take turns). */
  lock(tx: EntityManager): Promise<TradingStateRecord> {
    return this.repository.lock(tx);
  }

  async change(tx: EntityManager, change: StateChange): Promise<StateChangeOutcome> {
    const current = await this.book.hold(tx);
    if (change.escalateOnly && !isMoreRestrictive(change.to, current.state)) {
      return { from: current.state, to: current.state, applied: false };
    }
    const at = new Date();
    await this.repository.set(tx, {
      state: change.to,
      reason: change.reason,
      setBy: change.actor,
      source: change.source,
      setAt: at,
    });
    const commandId = change.commandId ?? randomUUID();
    await this.outbox.addAudit(tx, {
      eventId: uuidFromHash(`${AuditAction.TradingStateChanged}:${commandId}`),
      occurredAt: at,
      actor: change.actor,
      action: AuditAction.TradingStateChanged,
      subject: { type: 'trading-state', id: 'desk' },
      payload: {
        from: current.state,
        to: change.to,
        source: change.source,
        reason: change.reason,
        ...(change.to === TradingState.Halted ? { cancelOpenOrders: true } : {}),
        ...(change.figures ?? {}),
      },
      correlationId: change.correlationId,
    });
    if (change.to === TradingState.Halted) {
      const cancelAll: OrdersCancelAll = {
        schemaVersion: SCHEMA_VERSION,
        correlationId: change.correlationId,
        commandId,
        actor: change.actor,
        reasonCode: RiskReasonCode.TradingHalted,
        reason: change.reason,
        requestedAt: at.toISOString(),
      };
      // Execution cancels only what matches this record (docs/adr/0010).
      await this.repository.recordCancelAll(tx, { ...cancelAll, source: change.source });
      await this.outbox.add(tx, JobName.OrdersCancelAll, cancelAll);
    }
    return { from: current.state, to: change.to, applied: true };
  }
}
