import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import {
  IntentSource,
  JobName,
  OrderSide,
  OrderStatus,
  SCHEMA_VERSION,
  ServiceName,
  money,
  toWire,
  type Actor,
  type Money,
  type OrderParams,
} from '@desk/contracts';
import { Outbox, actorOfRow, orderOfRow, type OrderRow } from '@desk/platform';
import { actorKey, type LedgerReading } from './decision-ledger';

/** The statuses risk decides; the latest is in risk.intents, each one in risk.intent_events. */
export type RiskStatus = OrderStatus.Accepted | OrderStatus.Rejected | OrderStatus.PendingApproval;

export interface NewIntent {
  readonly intentId: string;
  readonly source: IntentSource;
  readonly actor: Actor;
  readonly order: OrderParams;
  readonly correlationId: string;
  readonly submittedAt: string;
  readonly reduceOnly: boolean;
}

export interface DecisionRecord {
  readonly status: RiskStatus;
  readonly reasonCode: string | null;
  readonly reason: string | null;
  readonly notional: Money | null;
  readonly referencePrice: Money | null;
  readonly decidedAt: Date;
  readonly approvalId?: string;
}

export interface StoredIntent {
  readonly id: string;
  readonly source: IntentSource;
  readonly status: RiskStatus;
  readonly actor: Actor;
  readonly order: OrderParams;
  readonly correlationId: string;
}

export interface Pending {
  readonly buy: Money;
  readonly sell: Money;
}

export interface Activity {
  /** Intents received in the last minute in the order's symbol / in all symbols (the current one excluded). */
  readonly submitsLastMinuteSymbol: number;
  readonly submitsLastMinuteTotal: number;
  /** Orders let through (accepted or held for approval) since the day began (the current one excluded). */
  readonly ordersToday: number;
  /**
   * The same actor's orders that are not final yet: held for approval, or accepted and neither filled nor
   * cancelled (the current one excluded).
   */
  readonly openOrdersOfActor: number;
}

/** Execution statuses after which nothing more of an order fills. */
export const FINAL_EXECUTION_STATUSES: ReadonlySet<string> = new Set([
  OrderStatus.Filled,
  OrderStatus.Cancelled,
  OrderStatus.Expired,
  OrderStatus.VenueRejected,
]);
const FINAL = `(${[...FINAL_EXECUTION_STATUSES].map((s) => `'${s}'`).join(', ')})`;
const PENDING = `status = 'ACCEPTED' AND (execution_status IS NULL OR execution_status NOT IN ${FINAL})`;

/**
 * risk.intents (each intent with its latest decision; the intent id is the primary key) and
 * risk.intent_events (every decision). Risk's own closing orders are intents too (source 'risk').
 */
@Injectable()
export class IntentsRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** Returns false when the intent was already recorded (a redelivered job): nothing was written. */
  async insertDecided(tx: EntityManager, intent: NewIntent, decision: DecisionRecord): Promise<boolean> {
    return (await this.insertDecidedMany(tx, [{ intent, decision }])).size > 0;
  }

  /**
   * Records intents with their decisions in one statement, then their history and `order.updated` jobs
   * (addEvents), in the order given. Returns the ids (lower case) of those inserted: one already recorded
   * (a redelivered job) is left as it was, and nothing is written for it.
   */
  async insertDecidedMany(
    tx: EntityManager,
    decided: readonly { intent: NewIntent; decision: DecisionRecord }[],
  ): Promise<Set<string>> {
    if (!decided.length) return new Set();
    const rows = decided.map(({ intent, decision }) => {
      const { order, actor } = intent;
      return {
        id: intent.intentId,
        source: intent.source,
        actor_type: actor.type,
        actor_id: actor.id,
        actor_key_id: actor.keyId ?? null,
        symbol: order.symbol,
        side: order.side,
        type: order.type,
        quantity: order.quantity,
        price: order.price ?? null,
        status: decision.status,
        reason_code: decision.reasonCode,
        reason: decision.reason,
        notional: decision.notional ? toWire(decision.notional) : null,
        reference_price: decision.referencePrice ? toWire(decision.referencePrice) : null,
        correlation_id: intent.correlationId,
        submitted_at: intent.submittedAt,
        decided_at: decision.decidedAt.toISOString(),
        reduce_only: intent.reduceOnly,
        approval_id: decision.approvalId ?? null,
        // Exactly as the intent had them (execution and the gateway compare them): none given stays null.
        time_in_force: order.timeInForce ?? null,
        post_only: order.postOnly ?? false,
      };
    });
    // One statement text for any batch size (one parameter), typed by the record definition.
    const inserted: { id: string }[] = await tx.query(
      `INSERT INTO risk.intents
         (id, source, actor_type, actor_id, actor_key_id, symbol, side, type, quantity, price,
          status, reason_code, reason, notional, reference_price, correlation_id, submitted_at, decided_at,
          reduce_only, approval_id, time_in_force, post_only)
       SELECT id, source, actor_type, actor_id, actor_key_id, symbol, side, type, quantity, price,
              status, reason_code, reason, notional, reference_price, correlation_id, submitted_at, decided_at,
              reduce_only, approval_id, time_in_force, post_only
         FROM jsonb_to_recordset($1::jsonb) AS r(
           id uuid, source text, actor_type text, actor_id text, actor_key_id text, symbol text, side text,
           type text, quantity numeric, price numeric, status text, reason_code text, reason text,
           notional numeric, reference_price numeric, correlation_id text, submitted_at timestamptz,
           decided_at timestamptz, reduce_only boolean, approval_id uuid, time_in_force text, post_only boolean)
       ON CONFLICT (id) DO NOTHING
       RETURNING id`,
      [JSON.stringify(rows)],
    );
    const ids = new Set(inserted.map((r) => r.id.toLowerCase()));
    await this.addEvents(
      tx,
      decided
        .filter(({ intent }) => ids.has(intent.intentId.toLowerCase()))
        .map(({ intent, decision }) => ({ intentId: intent.intentId, decision })),
    );
    return ids;
  }

  /** Which of these intents are recorded already (ids in lower case). */
  async recorded(tx: EntityManager, intentIds: readonly string[]): Promise<Set<string>> {
    const rows: { id: string }[] = await tx.query(`SELECT id FROM risk.intents WHERE id = ANY($1::uuid[])`, [
      intentIds,
    ]);
    return new Set(rows.map((r) => r.id.toLowerCase()));
  }

  /** The intent, locked until the transaction ends (a decision on it takes turns). */
  async lock(tx: EntityManager, intentId: string): Promise<StoredIntent | undefined> {
    const rows: (OrderRow & {
      id: string;
      source: IntentSource;
      status: RiskStatus;
      correlation_id: string;
    })[] = await tx.query(
      `SELECT id, source, status, actor_type, actor_id, actor_key_id, symbol, side, type,
              quantity::text, price::text, time_in_force, post_only, correlation_id
         FROM risk.intents WHERE id = $1 FOR UPDATE`,
      [intentId],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      id: r.id,
      source: r.source,
      status: r.status,
      actor: actorOfRow(r),
      order: orderOfRow(r),
      correlationId: r.correlation_id,
    };
  }

  /** Who submitted the intent (undefined: risk never recorded it). */
  async actorOf(intentId: string): Promise<Actor | undefined> {
    const rows: Pick<OrderRow, 'actor_type' | 'actor_id' | 'actor_key_id'>[] = await this.db.query(
      `SELECT actor_type, actor_id, actor_key_id FROM risk.intents WHERE id = $1`,
      [intentId],
    );
    const r = rows[0];
    return r ? actorOfRow(r) : undefined;
  }

  /** A later decision on a held intent (after approval): the row shows it, the history keeps both. */
  async decideAgain(tx: EntityManager, intentId: string, decision: DecisionRecord): Promise<void> {
    await tx.query(
      `UPDATE risk.intents
          SET status = $2, reason_code = $3, reason = $4, notional = $5, reference_price = $6, decided_at = $7,
              approval_id = $8
        WHERE id = $1`,
      [
        intentId,
        decision.status,
        decision.reasonCode,
        decision.reason,
        decision.notional ? toWire(decision.notional) : null,
        decision.referencePrice ? toWire(decision.referencePrice) : null,
        decision.decidedAt,
        decision.approvalId ?? null,
      ],
    );
    await this.addEvents(tx, [{ intentId, decision }]);
  }

  /**
   * Records decisions in their intents' history (one statement) and publishes each (`order.updated`, in
   * the same transaction, in the order given): risk owns the order's state from intent to decision, and
   * every transition it records is announced.
   */
  private async addEvents(
    tx: EntityManager,
    events: readonly { intentId: string; decision: DecisionRecord }[],
  ): Promise<void> {
    if (!events.length) return;
    const rows: (Omit<OrderRow, 'actor_type' | 'actor_id' | 'actor_key_id'> & {
      seq: string;
      intent_id: string;
      source: IntentSource;
      correlation_id: string;
      submitted_at: Date;
    })[] = await tx.query(
      `WITH e AS (
         INSERT INTO risk.intent_events (intent_id, status, reason_code, reason, at)
         SELECT intent_id, status, reason_code, reason, at
           FROM jsonb_to_recordset($1::jsonb)
                AS r(intent_id uuid, status text, reason_code text, reason text, at timestamptz)
         RETURNING id, intent_id)
       SELECT e.id::text AS seq, e.intent_id, i.source, i.symbol, i.side, i.type, i.quantity::text,
              i.price::text, i.time_in_force, i.post_only, i.correlation_id, i.submitted_at
         FROM e JOIN risk.intents i ON i.id = e.intent_id`,
      [
        JSON.stringify(
          events.map(({ intentId, decision }) => ({
            intent_id: intentId,
            status: decision.status,
            reason_code: decision.reasonCode,
            reason: decision.reason,
            at: decision.decidedAt.toISOString(),
          })),
        ),
      ],
    );
    const byIntent = new Map(rows.map((r) => [r.intent_id.toLowerCase(), r]));
    for (const { intentId, decision } of events) {
      const r = byIntent.get(intentId.toLowerCase());
      if (!r) throw new Error(`intent ${intentId} has no row to record a decision on`);
      await this.outbox.add(tx, JobName.OrderUpdated, {
        schemaVersion: SCHEMA_VERSION,
        correlationId: r.correlation_id,
        intentId,
        owner: ServiceName.Risk,
        seq: r.seq,
        status: decision.status,
        ...(decision.reasonCode ? { reasonCode: decision.reasonCode } : {}),
        ...(decision.reason ? { detail: decision.reason.slice(0, 500) } : {}),
        at: decision.decidedAt.toISOString(),
        order: orderOfRow(r),
        source: r.source,
        submittedAt: r.submitted_at.toISOString(),
      });
    }
  }

  /** Accepted orders that may still fill, by symbol. */
  async pending(tx?: EntityManager): Promise<Map<string, Pending>> {
    const rows: { symbol: string; side: OrderSide; quantity: string }[] = await (tx ?? this.db).query(
      // What may still fill: a partly filled order's filled part is in the position already.
      `SELECT symbol, side, sum(quantity - executed_quantity)::text AS quantity FROM risk.intents
        WHERE ${PENDING} GROUP BY symbol, side`,
    );
    const out = new Map<string, Pending>();
    for (const r of rows) {
      const p = out.get(r.symbol) ?? { buy: money('0'), sell: money('0') };
      out.set(
        r.symbol,
        r.side === OrderSide.Buy ? { ...p, buy: money(r.quantity) } : { ...p, sell: money(r.quantity) },
      );
    }
    return out;
  }

  /**
   * What a decision batch's ledger starts from (DecisionLedger), read inside the batch's transaction after
   * it locked the book: pending exposure, the last minute's intents by symbol and the day's orders as of
   * `now`, and the open orders of each of the batch's actors. Risk's own closing orders are never counted,
   * nor `excluding` (a held intent decided again on its approval does not count against itself).
   */
  async ledger(
    tx: EntityManager,
    now: Date,
    day: string,
    timeZone: string,
    actors: readonly Actor[],
    excluding?: string,
  ): Promise<LedgerReading> {
    const pending = await this.pending(tx);
    const counts: { symbol: string; minute: number; today: number }[] = await tx.query(
      `SELECT symbol,
              count(*) FILTER (WHERE received_at > $1::timestamptz - interval '1 minute')::int AS minute,
              count(*) FILTER (WHERE status IN ('ACCEPTED', 'PENDING_APPROVAL')
                                 AND received_at >= ($2::date)::timestamp AT TIME ZONE $3)::int AS today
         FROM risk.intents
        WHERE NOT reduce_only AND id IS DISTINCT FROM $4::uuid
          AND received_at >= LEAST($1::timestamptz - interval '1 minute', ($2::date)::timestamp AT TIME ZONE $3)
        GROUP BY symbol`,
      [now, day, timeZone, excluding ?? null],
    );
    const open: { actor_type: string; actor_id: string; open: number }[] = await tx.query(
      `SELECT actor_type, actor_id, count(*)::int AS open FROM risk.intents
        WHERE (actor_type, actor_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
          AND NOT reduce_only AND id IS DISTINCT FROM $3::uuid
          AND (status = 'PENDING_APPROVAL'
               OR (status = 'ACCEPTED'
                   AND (execution_status IS NULL OR execution_status NOT IN ${FINAL})))
        GROUP BY actor_type, actor_id`,
      [actors.map((a) => a.type), actors.map((a) => a.id), excluding ?? null],
    );
    return {
      pending,
      lastMinuteBySymbol: new Map(counts.map((c) => [c.symbol, c.minute])),
      ordersToday: counts.reduce((sum, c) => sum + c.today, 0),
      openByActor: new Map(
        open.map((o) => [actorKey({ type: o.actor_type as Actor['type'], id: o.actor_id }), o.open]),
      ),
    };
  }

  /**
   * Records the latest execution status of intents (from execution reports, which may arrive out of order;
   * one status per intent): a final status (FILLED, CANCELLED, EXPIRED, VENUE_REJECTED) is never replaced.
   */
  async setExecutionStatuses(
    tx: EntityManager,
    statuses: readonly { intentId: string; status: OrderStatus }[],
  ): Promise<void> {
    if (!statuses.length) return;
    await tx.query(
      `UPDATE risk.intents i SET execution_status = s.status
         FROM unnest($1::uuid[], $2::text[]) AS s(intent_id, status)
        WHERE i.id = s.intent_id AND (i.execution_status IS NULL OR i.execution_status NOT IN ${FINAL})`,
      [statuses.map((s) => s.intentId), statuses.map((s) => s.status)],
    );
  }

  /** Fills of the intents' orders were applied to the position (one quantity per intent): no longer pending. */
  async addExecutedQuantities(
    tx: EntityManager,
    executed: readonly { intentId: string; quantity: Money }[],
  ): Promise<void> {
    if (!executed.length) return;
    await tx.query(
      `UPDATE risk.intents i SET executed_quantity = i.executed_quantity + e.quantity
         FROM unnest($1::uuid[], $2::numeric[]) AS e(intent_id, quantity)
        WHERE i.id = e.intent_id`,
      [executed.map((e) => e.intentId), executed.map((e) => toWire(e.quantity))],
    );
  }
}
