import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import {
  OrderSide,
  OrderStatus,
  OrderType,
  TimeInForce,
  WORKING_ORDER_STATUSES,
  money,
  toWire,
  type Money,
  type AuditEvent,
  type PositionAmounts,
} from '@desk/contracts';
import { returnedRows } from '@desk/platform';
import type { ExchangeFill } from '../exchange/exchange-adapter';

/** The desk asked for the order to be taken off the venue (kill switch, halt, an operator): why, and who. */
export interface CancelRequest {
  readonly reasonCode: string;
  readonly reason: string;
  /** Who asked and through what (requestedBy, commandId, requestId): shown in the order's audit record. */
  readonly context: AuditEvent['payload'];
}

export interface OrderRecord {
  readonly id: string;
  readonly venue: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly type: OrderType;
  readonly quantity: Money;
  readonly price: Money | null;
  readonly status: OrderStatus;
  readonly correlationId: string;
  /** Risk's closing order: passes while halted, and only if it reduces the position. */
  readonly reduceOnly: boolean;
  readonly approvalId: string | null;
  readonly timeInForce: TimeInForce | null;
  readonly postOnly: boolean;
  /** The id the venue knows the order by (clientOrderIdFor). */
  readonly clientOrderId: string;
  /** The venue's own id, once it told us. */
  readonly venueOrderId: string | null;
  /** Sum of the recorded fills. */
  readonly filledQuantity: Money;
  /** How many times placement was committed (PLACING). */
  readonly placeAttempts: number;
  readonly cancelRequest: CancelRequest | null;
  /** When execution recorded it (read back from the row; a new order has none yet). */
  readonly createdAt?: Date;
}

/** Where a tick's walk through the active orders stands (see activeOrderPage). */
export interface ActiveOrderCursor {
  /** Not a reduce-only close (those come first). */
  readonly later: boolean;
  readonly createdAt: string;
  readonly id: string;
}

/** Statuses in which an order may still fill (UNKNOWN: the venue has to be asked). */
const ACTIVE_STATUSES: readonly OrderStatus[] = WORKING_ORDER_STATUSES;

interface OrderRow {
  id: string;
  venue: string;
  symbol: string;
  side: OrderSide;
  type: OrderType;
  quantity: string;
  price: string | null;
  status: OrderStatus;
  correlation_id: string;
  reduce_only: boolean;
  approval_id: string | null;
  time_in_force: TimeInForce | null;
  post_only: boolean;
  client_order_id: string;
  venue_order_id: string | null;
  filled_quantity: string;
  place_attempts: number;
  cancel_reason_code: string | null;
  cancel_reason: string | null;
  cancel_context: Record<string, unknown> | null;
  created_at?: Date;
}

const ORDER_COLUMNS = `id, venue, symbol, side, type, quantity::text, price::text, status, correlation_id, reduce_only,
  approval_id, time_in_force, post_only, client_order_id, venue_order_id, filled_quantity::text, place_attempts,
  cancel_reason_code, cancel_reason, cancel_context, created_at`;

/** ORDER_COLUMNS of the table aliased `o`. */
const ORDER_COLUMNS_OF_O = ORDER_COLUMNS.replace(/(^|,\s*)(\w+)/g, '$1o.$2');

interface PositionRow {
  quantity: string;
  average_price: string;
  realized_pnl: string;
  fees_paid: string;
}

/** Orders, their status history, fills and positions (schema `execution`), in raw SQL. */
@Injectable()
export class OrdersRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** Returns false when the order already existed (a redelivered job). */
  async insertOrder(tx: EntityManager, order: OrderRecord): Promise<boolean> {
    const rows: unknown[] = await tx.query(
      `INSERT INTO execution.orders
         (id, venue, symbol, side, type, quantity, price, status, correlation_id, reduce_only, approval_id,
          time_in_force, post_only, client_order_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (id) DO NOTHING
       RETURNING id`,
      [
        order.id,
        order.venue,
        order.symbol,
        order.side,
        order.type,
        toWire(order.quantity),
        order.price ? toWire(order.price) : null,
        order.status,
        order.correlationId,
        order.reduceOnly,
        order.approvalId,
        order.timeInForce,
        order.postOnly,
        order.clientOrderId,
      ],
    );
    return rows.length > 0;
  }

  /**
   * Records new orders that may be placed at once, in one statement: each straight into PLACING with its
   * first placement attempt counted and this instance's lease taken, its history given its SUBMITTED and
   * PLACING events (what insertOrder, addEvent, markPlacing and addEvent again do for one order, docs/adr/0024).
   * An order already recorded (a redelivered job) is left as it is. Returns, for each order recorded now,
   * its two events' ids by its id in lower case (SUBMITTED's the lower: the projection orders an order's
   * updates by them).
   */
  async insertPlacing(
    tx: EntityManager,
    orders: readonly { order: OrderRecord; submittedAt: Date; placingAt: Date }[],
    leaseMs: number,
  ): Promise<Map<string, { submitted: string; placing: string }>> {
    const input = orders.map(({ order, submittedAt, placingAt }) => ({
      id: order.id,
      venue: order.venue,
      symbol: order.symbol,
      side: order.side,
      type: order.type,
      quantity: toWire(order.quantity),
      price: order.price ? toWire(order.price) : null,
      correlation_id: order.correlationId,
      reduce_only: order.reduceOnly,
      approval_id: order.approvalId,
      time_in_force: order.timeInForce,
      post_only: order.postOnly,
      client_order_id: order.clientOrderId,
      submitted_at: submittedAt.toISOString(),
      placing_at: placingAt.toISOString(),
    }));
    // Rows are inserted in id order (two batches holding the same redelivered orders wait on each other
    // in one direction only), and each order's SUBMITTED event before its PLACING event.
    const rows: { order_id: string; status: OrderStatus; id: string }[] = await tx.query(
      `WITH input AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(
           id uuid, venue text, symbol text, side text, type text, quantity numeric, price numeric,
           correlation_id text, reduce_only boolean, approval_id uuid, time_in_force text, post_only boolean,
           client_order_id text, submitted_at timestamptz, placing_at timestamptz)),
       ins AS (
         INSERT INTO execution.orders
           (id, venue, symbol, side, type, quantity, price, status, correlation_id, reduce_only, approval_id,
            time_in_force, post_only, client_order_id, place_attempts, lease_until)
         SELECT id, venue, symbol, side, type, quantity, price, $2, correlation_id, reduce_only, approval_id,
                time_in_force, post_only, client_order_id, 1, now() + $4::integer * interval '1 millisecond'
           FROM input ORDER BY id
         ON CONFLICT (id) DO NOTHING
         RETURNING id),
       ev AS (
         INSERT INTO execution.order_events (order_id, status, detail, at, event_key)
         SELECT i.id, e.status, NULL, e.at, e.status || ':1'
           FROM input i JOIN ins USING (id)
           CROSS JOIN LATERAL (VALUES (1, $3::text, i.submitted_at), (2, $2::text, i.placing_at)) AS e(n, status, at)
          ORDER BY i.id, e.n
         RETURNING order_id, status, id)
       SELECT order_id::text AS order_id, status, id::text AS id FROM ev`,
      [JSON.stringify(input), OrderStatus.Placing, OrderStatus.Submitted, leaseMs],
    );
    const recorded = new Map<string, { submitted: string; placing: string }>();
    for (const row of rows) {
      const ids = recorded.get(row.order_id) ?? { submitted: '', placing: '' };
      if (row.status === OrderStatus.Submitted) ids.submitted = row.id;
      else ids.placing = row.id;
      // By the id as PostgreSQL writes a uuid (lower case).
      recorded.set(row.order_id, ids);
    }
    return recorded;
  }

  /**
   * Moves the order into `status` (with its reason code, if given) and appends the transition to its history;
   * returns the event's id, or undefined when an event with this key was already recorded for the order. The key defaults to the status and the event's position in the history (a
   * status may recur: each partial fill, a placement retried); a fill's event is keyed by its trade.
   */
  async addEvent(
    tx: EntityManager,
    orderId: string,
    status: OrderStatus,
    detail: string | null,
    at: Date,
    key?: string,
    reasonCode?: string,
  ): Promise<string | undefined> {
    // The order's status moves in the same statement (one round trip per transition), whether or not the
    // event was recorded before: a data-modifying WITH always runs to completion.
    const rows: { id: string }[] = await tx.query(
      `WITH moved AS (
         UPDATE execution.orders SET status = $2, reason_code = COALESCE($6, reason_code), updated_at = now()
          WHERE id = $1)
       INSERT INTO execution.order_events (order_id, status, detail, at, event_key)
       VALUES ($1, $2, $3, $4,
               COALESCE($5, $2 || ':' || (SELECT count(*) + 1 FROM execution.order_events WHERE order_id = $1)))
       ON CONFLICT (order_id, event_key) DO NOTHING
       RETURNING id::text AS id`,
      [orderId, status, detail, at, key ?? null, reasonCode ?? null],
    );
    return rows[0]?.id;
  }

  /**
   * One page of the orders that may still fill and are free to work on now (as lockActiveOrder takes them:
   * no instance's lease on them, no backoff to wait out), in the order a tick works on them: risk's reduce-only
   * closes first, then oldest first. Pass the last page's `next` to read on (a keyset: an order filled or
   * cancelled meanwhile shifts nothing, none is skipped); `next` is undefined after the last page.
   */
  async activeOrderPage(
    after: ActiveOrderCursor | undefined,
    limit: number,
  ): Promise<{ ids: string[]; next: ActiveOrderCursor | undefined }> {
    const rows: { id: string; later: boolean; created_at: string }[] = await this.db.query(
      `SELECT id, NOT reduce_only AS later, created_at::text AS created_at FROM execution.orders
        WHERE status = ANY($1::text[])
          AND (lease_until IS NULL OR lease_until < now())
          AND (next_attempt_at IS NULL OR next_attempt_at <= now() OR cancel_reason_code IS NOT NULL)
          AND ($2::boolean IS NULL OR (NOT reduce_only, created_at, id) > ($2::boolean, $3::timestamptz, $4::uuid))
        ORDER BY NOT reduce_only, created_at, id
        LIMIT $5`,
      [[...ACTIVE_STATUSES], after?.later ?? null, after?.createdAt ?? null, after?.id ?? null, limit],
    );
    const last = rows.at(-1);
    return {
      ids: rows.map((r) => r.id),
      // created_at as PostgreSQL's text keeps its microseconds (a Date would round them off).
      next:
        last && rows.length === limit
          ? { later: last.later, createdAt: last.created_at, id: last.id }
          : undefined,
    };
  }

  /** Orders a kill cancels: active, recorded before the kill, and not risk's own reduce-only closes. */
  async cancellableOrderIds(before: Date): Promise<string[]> {
    const rows: { id: string }[] = await this.db.query(
      `SELECT id FROM execution.orders
        WHERE status = ANY($1::text[]) AND NOT reduce_only AND created_at <= $2
        ORDER BY created_at, id`,
      [[...ACTIVE_STATUSES], before],
    );
    return rows.map((r) => r.id);
  }

  /** An operator's cancel of a symbol: its working orders, except risk's own reduce-only closes. */
  async workingOrderIdsOf(symbol: string): Promise<string[]> {
    const rows: { id: string }[] = await this.db.query(
      `SELECT id FROM execution.orders
        WHERE status = ANY($1::text[]) AND NOT reduce_only AND symbol = $2 ORDER BY created_at, id`,
      [[...ACTIVE_STATUSES], symbol],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Records that the desk wants a working order off the venue (the first request's reason stands); the
   * order's next step cancels it. False when the order is no longer working.
   */
  async requestCancel(tx: EntityManager | undefined, id: string, request: CancelRequest): Promise<boolean> {
    const rows = returnedRows<unknown>(
      await (tx ?? this.db).query(
        `UPDATE execution.orders
          SET cancel_reason_code = COALESCE(cancel_reason_code, $3),
              cancel_reason = COALESCE(cancel_reason, $4),
              cancel_context = COALESCE(cancel_context, $5::jsonb),
              next_attempt_at = NULL, updated_at = now()
        WHERE id = $1 AND status = ANY($2::text[])
        RETURNING 1`,
        [id, [...ACTIVE_STATUSES], request.reasonCode, request.reason, JSON.stringify(request.context)],
      ),
    );
    return rows.length > 0;
  }

  /** An operator's cancel ran (the gateway's re-drive sweep sees it through execution.cancel_request_receipts). */
  async recordCancelRequest(requestId: string, cancelled: number): Promise<void> {
    await this.db.query(
      `INSERT INTO execution.cancel_request_runs (request_id, cancelled) VALUES ($1, $2)
       ON CONFLICT (request_id) DO NOTHING`,
      [requestId, cancelled],
    );
  }

  /** Takes (or, with null, gives back) this instance's lease on an order it is calling the venue about. */
  async setLease(tx: EntityManager, id: string, leaseMs: number | null): Promise<void> {
    await tx.query(
      `UPDATE execution.orders
          SET lease_until = CASE WHEN $2::integer IS NULL THEN NULL ELSE now() + $2::integer * interval '1 millisecond' END
        WHERE id = $1`,
      [id, leaseMs],
    );
  }

  /** Not before this long from now is the order worked on again (null: at once). */
  async setNextAttempt(tx: EntityManager, id: string, afterMs: number | null): Promise<void> {
    await tx.query(
      `UPDATE execution.orders
          SET next_attempt_at = CASE WHEN $2::integer IS NULL THEN NULL ELSE now() + $2::integer * interval '1 millisecond' END
        WHERE id = $1`,
      [id, afterMs],
    );
  }

  /**
   * Counts a committed placement attempt: PLACING. `leaseMs`: and takes this instance's lease on the order
   * (the call to the venue follows the commit), in the same statement.
   */
  async markPlacing(tx: EntityManager, id: string, leaseMs?: number): Promise<number> {
    const rows = returnedRows<{ place_attempts: number }>(
      await tx.query(
        `UPDATE execution.orders SET status = $2, place_attempts = place_attempts + 1, updated_at = now(),
                lease_until = CASE WHEN $3::integer IS NULL THEN lease_until
                                   ELSE now() + $3::integer * interval '1 millisecond' END
          WHERE id = $1 RETURNING place_attempts`,
        [id, OrderStatus.Placing, leaseMs ?? null],
      ),
    );
    return rows[0]?.place_attempts ?? 0;
  }

  async setVenueOrderId(tx: EntityManager, id: string, venueOrderId: string): Promise<void> {
    await tx.query(
      `UPDATE execution.orders SET venue_order_id = $2 WHERE id = $1 AND venue_order_id IS DISTINCT FROM $2`,
      [id, venueOrderId],
    );
  }

  /** The desk's order the venue knows by this id (venues list trades by their own order id). */
  async orderIdByVenueOrderId(venue: string, venueOrderId: string): Promise<string | undefined> {
    const rows: { id: string }[] = await this.db.query(
      `SELECT id FROM execution.orders WHERE venue = $1 AND venue_order_id = $2`,
      [venue, venueOrderId],
    );
    return rows[0]?.id;
  }

  /** The desk's order a venue's client order id belongs to. */
  async orderIdByClientOrderId(venue: string, clientOrderId: string): Promise<string | undefined> {
    const rows: { id: string }[] = await this.db.query(
      `SELECT id FROM execution.orders WHERE venue = $1 AND client_order_id = $2`,
      [venue, clientOrderId],
    );
    return rows[0]?.id;
  }

  /** A cancel-all ran to its end (risk's re-drive sweep sees it through execution.cancel_all_receipts). */
  async recordCancelAll(commandId: string, cancelled: number): Promise<void> {
    await this.db.query(
      `INSERT INTO execution.cancel_all_runs (command_id, cancelled) VALUES ($1, $2)
       ON CONFLICT (command_id) DO NOTHING`,
      [commandId, cancelled],
    );
  }

  /**
   * Quantity of the active orders in a symbol and side that are ahead of this one (recorded earlier) and
   * may fill before it (only risk's reduce-only closes when `reduceOnlyOnly`: while halted nothing else can
   * fill). Only earlier orders count: an order placed later was placed around them, so an oversized
   * newcomer is refused without knocking out the orders already working.
   */
  async reservedQuantity(
    tx: EntityManager,
    order: Pick<OrderRecord, 'id' | 'symbol' | 'side'>,
    reduceOnlyOnly: boolean,
  ): Promise<Money> {
    const rows: { quantity: string }[] = await tx.query(
      `SELECT COALESCE(sum(quantity - filled_quantity), 0)::text AS quantity FROM execution.orders
        WHERE symbol = $1 AND side = $2 AND status = ANY($4::text[]) AND (reduce_only OR NOT $5)
          AND (created_at, id) < (SELECT created_at, id FROM execution.orders WHERE id = $3)`,
      [order.symbol, order.side, order.id, [...ACTIVE_STATUSES], reduceOnlyOnly],
    );
    return money(rows[0]?.quantity ?? '0');
  }

  /**
   * Locks an order that may still fill and is free to work on, for the rest of the transaction: not leased
   * by an instance calling the venue about it, and not waiting out a backoff (unless the desk wants it
   * cancelled: that is not held back). Undefined when it is none of these, or when another transaction
   * (another execution instance, or this one's tick) holds it: that one is working on it.
   */
  async lockActiveOrder(tx: EntityManager, id: string): Promise<OrderRecord | undefined> {
    const rows: OrderRow[] = await tx.query(
      `SELECT ${ORDER_COLUMNS} FROM execution.orders
        WHERE id = $1 AND status = ANY($2::text[])
          AND (lease_until IS NULL OR lease_until < now())
          AND (next_attempt_at IS NULL OR next_attempt_at <= now() OR cancel_reason_code IS NOT NULL)
        FOR UPDATE SKIP LOCKED`,
      [id, [...ACTIVE_STATUSES]],
    );
    const row = rows[0];
    return row && toRecord(row);
  }

  /**
   * Locks orders that may still fill (distinct ids), waiting for any other holder and whatever their lease,
   * and gives their leases back (the venue calls they were taken for have ended), in one statement: in the
   * order symbol then id, as every batch takes them, so two batches never wait on each other in a circle;
   * `venueOrderId`: and records the venue's id for an order, when the venue's answer gave one. Returns the
   * orders still active, by id in lower case (one no longer active is left unchanged).
   */
  async releaseActiveOrders(
    tx: EntityManager,
    orders: readonly { id: string; venueOrderId?: string }[],
  ): Promise<Map<string, OrderRecord>> {
    if (!orders.length) return new Map();
    const rows = returnedRows<OrderRow>(
      await tx.query(
        `WITH input AS (
           SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, venue_order_id text)),
         locked AS (
           SELECT o.id FROM execution.orders o JOIN input i USING (id)
            WHERE o.status = ANY($2::text[])
            ORDER BY o.symbol, o.id
            FOR UPDATE OF o)
         UPDATE execution.orders o
            SET lease_until = NULL, venue_order_id = COALESCE(i.venue_order_id, o.venue_order_id)
           FROM input i
          WHERE o.id = i.id AND o.id IN (SELECT id FROM locked)
          RETURNING ${ORDER_COLUMNS_OF_O}`,
        [
          JSON.stringify(orders.map((o) => ({ id: o.id, venue_order_id: o.venueOrderId ?? null }))),
          [...ACTIVE_STATUSES],
        ],
      ),
    );
    return new Map(rows.map((row) => [row.id, toRecord(row)]));
  }

  /** Working orders that have reached the venue (reconciliation compares them with its open orders). */
  async placedWorkingOrders(): Promise<OrderRecord[]> {
    const rows: OrderRow[] = await this.db.query(
      `SELECT ${ORDER_COLUMNS} FROM execution.orders WHERE status = ANY($1::text[]) AND status <> $2`,
      [[...ACTIVE_STATUSES], OrderStatus.Submitted],
    );
    return rows.map(toRecord);
  }

  /** Fill ids recorded since a time (reconciliation compares them with the venue's trades). */
  async fillIdsSince(since: Date): Promise<Set<string>> {
    const rows: { id: string }[] = await this.db.query(`SELECT id FROM execution.fills WHERE at >= $1`, [
      since,
    ]);
    return new Set(rows.map((r) => r.id));
  }

  /** Orders by status, and the age of the oldest order in each status that may still fill (metrics). */
  async statusCounts(): Promise<{ status: OrderStatus; orders: number; oldestActiveAgeSeconds: number }[]> {
    const rows: { status: OrderStatus; orders: string; oldest: string | null }[] = await this.db.query(
      `SELECT status, count(*)::text AS orders,
              CASE WHEN status = ANY($1::text[])
                   THEN extract(epoch FROM now() - min(created_at))::text END AS oldest
         FROM execution.orders GROUP BY status`,
      [[...ACTIVE_STATUSES]],
    );
    return rows.map((r) => ({
      status: r.status,
      orders: Number(r.orders),
      oldestActiveAgeSeconds: r.oldest === null ? 0 : Number(r.oldest),
    }));
  }

  /**
   * Records one of the order's trades at the venue, once, in one statement: the fill, the order's filled
   * quantity, volume-weighted average price and fees, and the transition it brings (the order's new status
   * and its history event keyed by the trade); nothing at all when the fill was already recorded. `recorded`: the fill
   * is new; `seq`: the event's id (undefined when an event with its key was somehow recorded already).
   */
  async recordFillEvent(
    tx: EntityManager,
    order: OrderRecord,
    fillId: string,
    fill: ExchangeFill,
    event: { status: OrderStatus; detail: string; key: string; reasonCode?: string },
  ): Promise<{ recorded: boolean; seq: string | undefined }> {
    const rows: { recorded: number; id: string | null }[] = await tx.query(
      `WITH f AS (
         INSERT INTO execution.fills (id, order_id, symbol, side, price, quantity, fee, fee_currency, at, trade_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (id) DO NOTHING RETURNING order_id, price, quantity, fee),
       o AS (
         UPDATE execution.orders o
            SET average_fill_price = trim_scale(round(
                  (COALESCE(o.average_fill_price, 0) * o.filled_quantity + f.price * f.quantity)
                  / (o.filled_quantity + f.quantity), 18)),
                filled_quantity = o.filled_quantity + f.quantity, fees = o.fees + f.fee,
                status = $11, reason_code = COALESCE($14, o.reason_code), updated_at = now()
           FROM f WHERE o.id = f.order_id),
       e AS (
         INSERT INTO execution.order_events (order_id, status, detail, at, event_key)
         SELECT order_id, $11, $12, $9, $13 FROM f
         ON CONFLICT (order_id, event_key) DO NOTHING
         RETURNING id)
       SELECT (SELECT count(*) FROM f)::int AS recorded, (SELECT id::text FROM e) AS id`,
      [
        fillId,
        order.id,
        order.symbol,
        order.side,
        toWire(fill.price),
        toWire(fill.quantity),
        toWire(fill.fee),
        fill.feeCurrency,
        fill.at,
        fill.tradeId,
        event.status,
        event.detail,
        event.key,
        event.reasonCode ?? null,
      ],
    );
    const row = rows[0];
    return { recorded: (row?.recorded ?? 0) > 0, seq: row?.id ?? undefined };
  }

  /** Writes back the positions a transaction moved (locked with lockPosition), in one statement. */
  async savePositions(tx: EntityManager, positions: ReadonlyMap<string, PositionAmounts>): Promise<void> {
    if (!positions.size) return;
    await tx.query(
      `UPDATE execution.positions p
          SET quantity = r.quantity, average_price = r.average_price, realized_pnl = r.realized_pnl,
              fees_paid = r.fees_paid, updated_at = now()
         FROM jsonb_to_recordset($1::jsonb)
           AS r(symbol text, quantity numeric, average_price numeric, realized_pnl numeric, fees_paid numeric)
        WHERE p.symbol = r.symbol`,
      [
        JSON.stringify(
          [...positions].map(([symbol, p]) => ({
            symbol,
            quantity: toWire(p.quantity),
            average_price: toWire(p.averagePrice),
            realized_pnl: toWire(p.realizedPnl),
            fees_paid: toWire(p.feesPaid),
          })),
        ),
      ],
    );
  }

  /** The symbol's net quantity, its row locked for the rest of the transaction (0 when there is none). */
  async lockPositionQuantity(tx: EntityManager, symbol: string): Promise<Money> {
    const rows: { quantity: string }[] = await tx.query(
      `SELECT quantity::text FROM execution.positions WHERE symbol = $1 FOR UPDATE`,
      [symbol],
    );
    return money(rows[0]?.quantity ?? '0');
  }

  /** The symbol's position, locked for the rest of the transaction (flat when there was none). */
  async lockPosition(tx: EntityManager, symbol: string): Promise<PositionAmounts> {
    // One statement: a new symbol's row is created, an existing one locked (the no-op update locks it as
    // FOR UPDATE would) and returned as it stands.
    const rows = returnedRows<PositionRow>(
      await tx.query(
        `INSERT INTO execution.positions (symbol, quantity, average_price, realized_pnl, fees_paid)
         VALUES ($1, 0, 0, 0, 0)
         ON CONFLICT (symbol) DO UPDATE SET symbol = EXCLUDED.symbol
         RETURNING quantity, average_price, realized_pnl, fees_paid`,
        [symbol],
      ),
    );
    const row = rows[0];
    if (!row) throw new Error(`position ${symbol} vanished inside its transaction`);
    return {
      quantity: money(row.quantity),
      averagePrice: money(row.average_price),
      realizedPnl: money(row.realized_pnl),
      feesPaid: money(row.fees_paid),
    };
  }
}

function toRecord(row: OrderRow): OrderRecord {
  return {
    id: row.id,
    venue: row.venue,
    symbol: row.symbol,
    side: row.side,
    type: row.type,
    quantity: money(row.quantity),
    price: row.price === null ? null : money(row.price),
    status: row.status,
    correlationId: row.correlation_id,
    reduceOnly: row.reduce_only,
    approvalId: row.approval_id,
    timeInForce: row.time_in_force,
    postOnly: row.post_only,
    clientOrderId: row.client_order_id,
    venueOrderId: row.venue_order_id,
    filledQuantity: money(row.filled_quantity),
    placeAttempts: row.place_attempts,
    cancelRequest:
      row.cancel_reason_code === null
        ? null
        : {
            reasonCode: row.cancel_reason_code,
            reason: row.cancel_reason ?? '',
            context: row.cancel_context ?? {},
          },
    ...(row.created_at ? { createdAt: row.created_at } : {}),
  };
}
