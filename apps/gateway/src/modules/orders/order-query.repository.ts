import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { OrderStatus, money, toWire, type TimeInForce } from '@desk/contracts';
import { decodeTimeIdCursor, encodeCursor, type Page } from '../../http/cursor';
import type { FillView, ListOrdersQuery, OrderHistoryEntry, OrderView } from './orders.dto';

/**
 * Read side of the order path: the gateway's own projection (gateway.orders, order_events, order_fills),
 * kept from the transitions each order's owners publish (risk from intent to decision, execution from
 * placement to fill), and the order's approval, which is the gateway's own record.
 */
const ORDERS_SQL = `
  SELECT o.id, COALESCE(o.source, 'unknown') AS source, o.symbol, o.side, o.type, o.quantity::text AS quantity,
         o.price::text AS price, o.submitted_at, o.status, o.reason_code, o.post_only,
         -- A limit order given none works as GTC at the venue; a market order has none.
         CASE WHEN o.type = 'limit' THEN COALESCE(o.time_in_force, 'GTC') END AS time_in_force,
         a.id AS approval_id, a.status AS approval_status, a.required_approvals, a.valid_approvals,
         COALESCE(f.quantity, 0)::text AS filled_quantity,
         CASE WHEN f.quantity > 0 THEN (f.value / f.quantity)::text END AS average_fill_price,
         COALESCE(f.fees, 0)::text AS fees,
         to_char(o.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS submitted_at_text
    FROM gateway.orders o
    LEFT JOIN LATERAL (
      SELECT sum(quantity) AS quantity, sum(price * quantity) AS value, sum(fee) AS fees
        FROM gateway.order_fills WHERE order_id = o.id
    ) f ON true
    LEFT JOIN LATERAL (
      SELECT v.id, v.status, v.required_approvals, v.valid_approvals
        FROM gateway.approval_validity v JOIN gateway.approval_requests r ON r.id = v.id
       WHERE v.kind = 'order' AND v.subject_id = o.id::text
       ORDER BY r.created_at DESC LIMIT 1
    ) a ON true`;

interface OrderRow {
  id: string;
  source: string;
  symbol: string;
  side: string;
  type: string;
  quantity: string;
  price: string | null;
  time_in_force: TimeInForce | null;
  post_only: boolean;
  submitted_at: Date;
  submitted_at_text: string;
  reason_code: string | null;
  status: OrderStatus;
  approval_id: string | null;
  approval_status: string | null;
  required_approvals: number | null;
  valid_approvals: number | null;
  filled_quantity: string;
  average_fill_price: string | null;
  fees: string;
}

@Injectable()
export class OrderQueryRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async findOne(id: string): Promise<OrderView | undefined> {
    const rows: OrderRow[] = await this.db.query(`SELECT * FROM (${ORDERS_SQL}) v WHERE v.id = $1`, [id]);
    const row = rows[0];
    if (!row) return undefined;
    const [events, fills, cancels] = await Promise.all([
      this.db.query<{ status: OrderStatus; reason_code: string | null; detail: string | null; at: Date }[]>(
        `SELECT status, reason_code, detail, at FROM gateway.order_events WHERE order_id = $1
          ORDER BY at, CASE owner WHEN 'risk' THEN 1 ELSE 2 END, seq`,
        [id],
      ),
      this.db.query<
        { id: string; price: string; quantity: string; fee: string; fee_currency: string; at: Date }[]
      >(
        `SELECT id, price::text, quantity::text, fee::text, fee_currency, at FROM gateway.order_fills
          WHERE order_id = $1 ORDER BY at, id`,
        [id],
      ),
      this.db.query<{ id: string; actor_type: string; actor_id: string; requested_at: Date }[]>(
        `SELECT id, actor_type, actor_id, requested_at FROM gateway.cancel_requests
          WHERE target_kind = 'order' AND intent_id = $1 ORDER BY requested_at DESC LIMIT 1`,
        [id],
      ),
    ]);
    const history: OrderHistoryEntry[] = [
      { status: OrderStatus.Received, at: row.submitted_at.toISOString() },
      ...events.map((e) => ({
        status: e.status,
        at: e.at.toISOString(),
        ...(e.reason_code ? { reasonCode: e.reason_code } : {}),
        ...(e.detail ? { detail: e.detail } : {}),
      })),
    ];
    const fillViews: FillView[] = fills.map((f) => ({
      id: f.id,
      price: f.price,
      quantity: f.quantity,
      fee: f.fee,
      feeCurrency: f.fee_currency,
      at: f.at.toISOString(),
    }));
    const approval = row.approval_id
      ? {
          id: row.approval_id,
          status: row.approval_status,
          requiredApprovals: row.required_approvals,
          validApprovals: row.valid_approvals,
        }
      : null;
    const cancel = cancels[0];
    const cancelRequest = cancel
      ? {
          requestId: cancel.id,
          requestedBy: { type: cancel.actor_type, id: cancel.actor_id },
          requestedAt: cancel.requested_at.toISOString(),
        }
      : undefined;
    return {
      ...toView(row),
      history,
      fills: fillViews,
      approval,
      ...(cancelRequest ? { cancelRequest } : {}),
    };
  }

  async list(query: ListOrdersQuery): Promise<Page<OrderView>> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (query.symbol) add('v.symbol = ?', query.symbol);
    if (query.side) add('v.side = ?', query.side);
    if (query.type) add('v.type = ?', query.type);
    if (query.status) add('v.status = ?', query.status);
    if (query.source) add('v.source = ?', query.source);
    if (query.cursor) {
      const { at, id } = decodeTimeIdCursor(query.cursor);
      params.push(at, id);
      where.push(`(v.submitted_at, v.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(query.limit + 1);
    const rows: OrderRow[] = await this.db.query(
      `SELECT * FROM (${ORDERS_SQL}) v ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY v.submitted_at DESC, v.id DESC LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toView),
      nextCursor: rows.length > query.limit && last ? encodeCursor([last.submitted_at_text, last.id]) : null,
    };
  }
}

function toView(row: OrderRow): OrderView {
  return {
    id: row.id,
    source: row.source,
    symbol: row.symbol,
    side: row.side,
    type: row.type,
    quantity: normalise(row.quantity),
    price: row.price === null ? null : normalise(row.price),
    timeInForce: row.time_in_force,
    postOnly: row.post_only,
    status: row.status,
    reasonCode: row.reason_code,
    filledQuantity: normalise(row.filled_quantity),
    averageFillPrice: row.average_fill_price === null ? null : normalise(row.average_fill_price),
    fees: normalise(row.fees),
    submittedAt: row.submitted_at.toISOString(),
  };
}

/** numeric comes back as text ("0.010000"); show the canonical decimal string ("0.01"). */
function normalise(value: string): string {
  return toWire(money(value));
}
