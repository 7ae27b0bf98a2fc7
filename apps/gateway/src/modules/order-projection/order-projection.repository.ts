import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { ServiceName, type OrderUpdated } from '@desk/contracts';

/**
 * Which owner's event set a status: a later phase, or a later event of the same owner, moves it forward.
 * The gateway's RECEIVED row (written with the submission: SubmissionRepository) is phase 0.
 */
const PHASE = { [ServiceName.Risk]: 1, [ServiceName.Execution]: 2 } as const;

/**
 * gateway.orders, order_events and order_fills: the gateway's one projection of every order, written from
 * the owners' `order.updated` jobs (the RECEIVED row of the gateway's own submissions is written with the
 * submission: SubmissionRepository).
 */
@Injectable()
export class OrderProjectionRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /**
   * Applies owners' transitions, with the outcome of applying them one at a time in the order given, in
   * three statements for the whole batch: each event once (a redelivery, or the same event twice in the
   * batch, adds nothing and is false), each order's row created on the first word of it, its status moved
   * only forward, and each fill once. Rows are written in order id order (two instances' batches lock
   * them in the same order).
   */
  async applyMany(tx: EntityManager, updates: readonly OrderUpdated[]): Promise<boolean[]> {
    if (!updates.length) return [];
    const key = (u: { intentId: string; owner: string; seq: string }) =>
      `${u.intentId.toLowerCase()}/${u.owner}/${BigInt(u.seq)}`;
    const byOrder = (a: OrderUpdated, b: OrderUpdated) =>
      a.intentId.toLowerCase() < b.intentId.toLowerCase()
        ? -1
        : a.intentId.toLowerCase() > b.intentId.toLowerCase()
          ? 1
          : 0;
    const inserted: { order_id: string; owner: string; seq: string }[] = await tx.query(
      `INSERT INTO gateway.order_events (order_id, owner, seq, status, reason_code, detail, at)
       SELECT order_id, owner, seq, status, reason_code, detail, at
         FROM jsonb_to_recordset($1::jsonb) AS e(order_id uuid, owner text, seq bigint, status text,
                                                 reason_code text, detail text, at timestamptz)
       ON CONFLICT DO NOTHING RETURNING order_id, owner, seq::text`,
      [
        JSON.stringify(
          [...updates].sort(byOrder).map((u) => ({
            order_id: u.intentId,
            owner: u.owner,
            seq: u.seq,
            status: u.status,
            reason_code: u.reasonCode ?? null,
            detail: u.detail ?? null,
            at: u.at,
          })),
        ),
      ],
    );
    const fresh = new Set(inserted.map((e) => key({ intentId: e.order_id, owner: e.owner, seq: e.seq })));
    // Each new event once, in the order given (a second copy in the batch is not new).
    const applied = updates.map((u) => fresh.delete(key(u)));
    const rows = new Map<string, OrderRow>();
    for (const [i, u] of updates.entries()) {
      if (!applied[i]) continue;
      const id = u.intentId.toLowerCase();
      rows.set(id, foldInto(rows.get(id), u));
    }
    if (rows.size) {
      await tx.query(
        `INSERT INTO gateway.orders AS o
           (id, source, symbol, side, type, quantity, price, status, status_phase, status_seq, reason_code,
            submitted_at, time_in_force, post_only)
         SELECT id, source, symbol, side, type, quantity, price, status, status_phase, status_seq, reason_code,
                submitted_at, time_in_force, post_only
           FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, source text, symbol text, side text, type text,
                quantity numeric, price numeric, status text, status_phase smallint, status_seq bigint,
                reason_code text, submitted_at timestamptz, time_in_force text, post_only boolean)
         ON CONFLICT (id) DO UPDATE SET
           source = COALESCE(o.source, EXCLUDED.source),
           submitted_at = LEAST(o.submitted_at, EXCLUDED.submitted_at),
           status = CASE WHEN (EXCLUDED.status_phase, EXCLUDED.status_seq) > (o.status_phase, o.status_seq)
                         THEN EXCLUDED.status ELSE o.status END,
           reason_code = CASE WHEN (EXCLUDED.status_phase, EXCLUDED.status_seq) > (o.status_phase, o.status_seq)
                              THEN EXCLUDED.reason_code ELSE o.reason_code END,
           status_seq = CASE WHEN (EXCLUDED.status_phase, EXCLUDED.status_seq) > (o.status_phase, o.status_seq)
                             THEN EXCLUDED.status_seq ELSE o.status_seq END,
           status_phase = GREATEST(o.status_phase, EXCLUDED.status_phase),
           updated_at = now()`,
        [JSON.stringify([...rows.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)))],
      );
    }
    const fills = updates.filter((u, i) => applied[i] && u.fill);
    if (fills.length) {
      await tx.query(
        `INSERT INTO gateway.order_fills (id, order_id, price, quantity, fee, fee_currency, at)
         SELECT id, order_id, price, quantity, fee, fee_currency, at
           FROM jsonb_to_recordset($1::jsonb) AS f(id text, order_id uuid, price numeric, quantity numeric,
                                                   fee numeric, fee_currency text, at timestamptz)
         ON CONFLICT (id) DO NOTHING`,
        [
          JSON.stringify(
            fills.sort(byOrder).map((u) => ({
              id: u.fill!.fillId,
              order_id: u.intentId,
              price: u.fill!.price,
              quantity: u.fill!.quantity,
              fee: u.fill!.fee,
              fee_currency: u.fill!.feeCurrency,
              at: u.fill!.at,
            })),
          ),
        ],
      );
    }
    return applied;
  }
}

/** An order's row as a batch's updates leave it (the database then merges it with the row it has). */
interface OrderRow {
  readonly id: string;
  readonly source: string | null;
  readonly symbol: string;
  readonly side: string;
  readonly type: string;
  readonly quantity: string;
  readonly price: string | null;
  readonly status: string;
  readonly status_phase: number;
  readonly status_seq: string;
  readonly reason_code: string | null;
  readonly submitted_at: string;
  readonly time_in_force: string | null;
  readonly post_only: boolean;
}

/**
 * One more update on an order within a batch, exactly as the upsert would merge it: the parameters come
 * from the first word of the order, the first source given stays, the earliest submission time, and the
 * status of the latest (phase, event) only when strictly later.
 */
function foldInto(row: OrderRow | undefined, u: OrderUpdated): OrderRow {
  const phase = PHASE[u.owner];
  const submittedAt = u.submittedAt ?? u.at;
  if (!row) {
    return {
      id: u.intentId.toLowerCase(),
      source: u.source ?? null,
      symbol: u.order.symbol,
      side: u.order.side,
      type: u.order.type,
      quantity: u.order.quantity,
      price: u.order.price ?? null,
      status: u.status,
      status_phase: phase,
      status_seq: String(BigInt(u.seq)),
      reason_code: u.reasonCode ?? null,
      submitted_at: submittedAt,
      time_in_force: u.order.timeInForce ?? null,
      post_only: u.order.postOnly ?? false,
    };
  }
  const later =
    phase > row.status_phase || (phase === row.status_phase && BigInt(u.seq) > BigInt(row.status_seq));
  return {
    ...row,
    source: row.source ?? u.source ?? null,
    submitted_at: Date.parse(submittedAt) < Date.parse(row.submitted_at) ? submittedAt : row.submitted_at,
    ...(later
      ? {
          status: u.status,
          status_phase: phase,
          status_seq: String(BigInt(u.seq)),
          reason_code: u.reasonCode ?? null,
        }
      : {}),
  };
}
