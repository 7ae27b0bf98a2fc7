import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import {
  TradingState,
  type Actor,
  type ApprovalRow,
  type RecordedCancelAll,
  type RecordedOrder,
} from '@desk/contracts';
import { actorOfRow, orderOfRow, readApproval, type OrderRow } from '@desk/platform';

/**
 * What execution must know from the services that control it, read with SQL and never written
 * (docs/adr/0003): the desk's trading state and the venues enabled for live trading (risk.trading_state,
 * risk.venues, owned by risk), risk's decision on each intent (the view risk.order_decisions), the
 * cancel-alls risk asked for (risk.cancel_all_sources) and the
 * approvals that still count (gateway.approval_validity, owned by the gateway).
 */
@Injectable()
export class ControlsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The trading state and why risk set it; HALTED when risk has recorded none (never place without knowing). */
  async tradingState(tx?: EntityManager): Promise<{ state: TradingState; reason: string }> {
    const rows: { state: TradingState; reason: string }[] = await (tx ?? this.db).query(
      `SELECT state, reason FROM risk.trading_state_v WHERE id = 1`,
    );
    return rows[0] ?? { state: TradingState.Halted, reason: 'risk has recorded no trading state' };
  }

  /** Whether two approvers enabled live trading on the venue (and nobody switched it off since). */
  async liveEnabled(tx: EntityManager, venue: string): Promise<boolean> {
    const rows: { live: boolean }[] = await tx.query(`SELECT live FROM risk.venues_v WHERE venue = $1`, [
      venue,
    ]);
    return rows[0]?.live === true;
  }

  /**
   * Risk's decisions on these intents, with the actor and parameters each was decided on
   * (risk.order_decisions, one primary-key read for all of them), in the order asked; undefined where risk
   * never saw the intent.
   */
  async orderDecisions(intentIds: readonly string[]): Promise<(OrderDecision | undefined)[]> {
    const rows: (OrderRow & {
      intent_id: string;
      decision: string;
      reduce_only: boolean;
      approval_id: string | null;
    })[] = await this.db.query(
      `SELECT intent_id::text, decision, actor_type, actor_id, actor_key_id, symbol, side, type,
              quantity::text, price::text, time_in_force, post_only, reduce_only, approval_id
         FROM risk.order_decisions WHERE intent_id = ANY($1::uuid[])`,
      [intentIds],
    );
    const byId = new Map(
      rows.map((r): [string, OrderDecision] => [
        r.intent_id,
        {
          decision: r.decision,
          actor: actorOfRow(r),
          order: orderOfRow(r),
          reduceOnly: r.reduce_only,
          approvalId: r.approval_id,
        },
      ]),
    );
    return intentIds.map((id) => byId.get(id.toLowerCase()));
  }

  /**
   * The cancel-all risk asked for under this command id (risk.cancel_all_sources, one primary-key read);
   * undefined when risk never asked.
   */
  async cancelAllRequest(commandId: string): Promise<RecordedCancelAll | undefined> {
    const rows: {
      actor_type: Actor['type'];
      actor_id: string;
      actor_key_id: string | null;
      reason_code: string;
      reason: string;
    }[] = await this.db.query(
      `SELECT actor_type, actor_id, actor_key_id, reason_code, reason
         FROM risk.cancel_all_sources WHERE command_id = $1`,
      [commandId],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      actor: { type: r.actor_type, id: r.actor_id, ...(r.actor_key_id ? { keyId: r.actor_key_id } : {}) },
      reasonCode: r.reason_code,
      reason: r.reason,
    };
  }

  approval(tx: EntityManager, approvalId: string): Promise<ApprovalRow | undefined> {
    return readApproval(tx, approvalId);
  }

  /**
   * The first operator cancel the gateway recorded for each of these orders (an order may be cancelled
   * before it reaches execution: it is then never placed), by order id in lower case; an order nobody
   * cancelled has no entry. One read for a batch.
   */
  async ordersCancelledBy(
    tx: EntityManager,
    intentIds: readonly string[],
  ): Promise<Map<string, { requestId: string; actorId: string }>> {
    if (!intentIds.length) return new Map();
    const rows: { intent_id: string; request_id: string; actor_id: string }[] = await tx.query(
      `SELECT DISTINCT ON (intent_id) intent_id::text, request_id, actor_id FROM gateway.cancel_request_sources
        WHERE target_kind = 'order' AND intent_id = ANY($1::uuid[]) ORDER BY intent_id, requested_at`,
      [intentIds],
    );
    return new Map(rows.map((r) => [r.intent_id, { requestId: r.request_id, actorId: r.actor_id }]));
  }

  /**
   * An operator's cancel as the gateway recorded it (gateway.cancel_request_sources); undefined when the
   * gateway recorded no such request.
   */
  async cancelRequest(requestId: string): Promise<RecordedCancelRequest | undefined> {
    const rows: {
      actor_type: string;
      actor_id: string;
      actor_key_id: string | null;
      target_kind: string;
      intent_id: string | null;
      symbol: string | null;
    }[] = await this.db.query(
      `SELECT actor_type, actor_id, actor_key_id, target_kind, intent_id, symbol
         FROM gateway.cancel_request_sources WHERE request_id = $1`,
      [requestId],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      actorType: r.actor_type,
      actorId: r.actor_id,
      actorKeyId: r.actor_key_id,
      targetKind: r.target_kind,
      intentId: r.intent_id,
      symbol: r.symbol,
    };
  }
}

/** An operator's cancel request as the gateway recorded it. */
export interface RecordedCancelRequest {
  readonly actorType: string;
  readonly actorId: string;
  readonly actorKeyId: string | null;
  readonly targetKind: string;
  readonly intentId: string | null;
  readonly symbol: string | null;
}

/** Risk's decision on an intent, as risk.order_decisions shows it. */
export interface OrderDecision extends RecordedOrder {
  /** ACCEPTED, REJECTED or PENDING_APPROVAL. */
  readonly decision: string;
  readonly reduceOnly: boolean;
  readonly approvalId: string | null;
}
