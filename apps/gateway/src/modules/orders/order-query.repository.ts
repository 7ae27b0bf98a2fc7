import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { OrderStatus, money, toWire } from '@desk/contracts';
import { decodeTimeIdCursor, encodeCursor, type Page } from '../../http/cursor';
import type { FillView, ListOrdersQuery, OrderHistoryEntry, OrderView } from './orders.dto';

/**
 * Read side of the order path. An order's life is written by three services, each in its own schema:
 * the gateway (gateway.submissions), risk (risk.intents) and execution (execution.orders, order_events,
 * fills). This repository only READS them (see docs/adr/0003-read-models-across-schemas.md).
 */
const ORDERS_SQL = `
  WITH base AS (
    SELECT i.id, i.source, i.symbol, i.side, i.type, i.quantity, i.price, i.submitted_at,
           i.status AS risk_status, i.reason_code, i.reason, i.decided_at
      FROM risk.intents_v i
    UNION ALL
    SELECT s.id, 'operator', s.symbol, s.side, s.type, s.quantity, s.price, s.submitted_at,
           NULL, NULL, NULL, NULL
      FROM gateway.submissions s
     WHERE NOT EXISTS (SELECT 1 FROM risk.intents_v i WHERE i.id = s.id)
  )
  SELECT b.id, b.source, b.symbol, b.side, b.type, b.quantity, b.price, b.submitted_at, b.risk_status, b.decided_at,
         b.reason,
         COALESCE(o.status,
                  CASE WHEN a.status IN ('denied', 'expired') THEN 'REJECTED' END,
                  b.risk_status, 'RECEIVED') AS status,
         CASE WHEN o.status IS NULL AND a.status = 'denied' THEN 'APPROVAL_DENIED'
              WHEN o.status IS NULL AND a.status = 'expired' THEN 'APPROVAL_EXPIRED'
              ELSE b.reason_code END AS reason_code,
         a.id AS approval_id, a.status AS approval_status, a.decided_at AS approval_decided_at,
         a.required_approvals, a.valid_approvals,
         COALESCE(o.filled_quantity, 0)::text AS filled_quantity, o.average_fill_price, COALESCE(o.fees, 0)::text AS fees,
         to_char(b.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS submitted_at_text
    FROM base b
    LEFT JOIN execution.orders_v o ON o.id = b.id
    LEFT JOIN LATERAL (
      SELECT v.id, v.status, v.required_approvals, v.valid_approvals, r.decided_at
        FROM gateway.approval_validity v JOIN gateway.approval_requests r ON r.id = v.id
       WHERE v.kind = 'order' AND v.subject_id = b.id::text
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
  submitted_at: Date;
  submitted_at_text: string;
  risk_status: string | null;
  reason_code: string | null;
  reason: string | null;
  decided_at: Date | null;
  status: OrderStatus;
  approval_id: string | null;
  approval_status: string | null;
  approval_decided_at: Date | null;
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
    const [decisions, events, fills] = await Promise.all([
      this.db.query<{ status: OrderStatus; reason_code: string | null; reason: string | null; at: Date }[]>(
        `SELECT status, reason_code, reason, at FROM risk.intent_events_v WHERE intent_id = $1 ORDER BY at, id`,
        [id],
      ),
      this.db.query<{ status: OrderStatus; detail: string | null; at: Date }[]>(
        `SELECT status, detail, at FROM execution.order_events_v WHERE order_id = $1 ORDER BY at, id`,
        [id],
      ),
      this.db.query<
        { id: string; price: string; quantity: string; fee: string; fee_currency: string; at: Date }[]
      >(
        `SELECT id, price::text, quantity::text, fee::text, fee_currency, at FROM execution.fills_v WHERE order_id = $1 ORDER BY at, id`,
        [id],
      ),
    ]);
    const history: OrderHistoryEntry[] = [
      { status: OrderStatus.Received, at: row.submitted_at.toISOString() },
    ];
    for (const d of decisions) {
      history.push({
        status: d.status,
        at: d.at.toISOString(),
        ...(d.reason_code ? { reasonCode: d.reason_code } : {}),
        ...(d.reason ? { detail: d.reason } : {}),
      });
    }
    if ((row.approval_status === 'denied' || row.approval_status === 'expired') && row.approval_decided_at) {
      history.push({
        status: OrderStatus.Rejected,
        at: row.approval_decided_at.toISOString(),
        reasonCode: row.approval_status === 'denied' ? 'APPROVAL_DENIED' : 'APPROVAL_EXPIRED',
      });
    }
    for (const e of events) {
      history.push({ status: e.status, at: e.at.toISOString(), ...(e.detail ? { detail: e.detail } : {}) });
    }
    const fillViews: FillView[] = fills.map((f) => ({
      id: f.id,
      price: f.price,
      quantity: f.quantity,
      fee: f.fee,
      feeCurrency: f.fee_currency,
      at: f.at.toISOString(),
    }));
    history.sort((a, b) => a.at.localeCompare(b.at));
    const approval = row.approval_id
      ? {
          id: row.approval_id,
          status: row.approval_status,
          requiredApprovals: row.required_approvals,
          validApprovals: row.valid_approvals,
        }
      : null;
    return { ...toView(row), history, fills: fillViews, approval };
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
