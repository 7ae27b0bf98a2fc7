import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { OrderSide, OrderType, TimeInForce, money, toWire, type Money } from '@desk/contracts';
import type { VenueOrderStatus } from './exchange-adapter';

/** An order in the paper venue's own book. */
export interface PaperOrderRow {
  readonly clientOrderId: string;
  readonly venueOrderId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly type: OrderType;
  readonly quantity: Money;
  readonly price: Money | null;
  readonly timeInForce: TimeInForce | null;
  readonly postOnly: boolean;
  readonly status: VenueOrderStatus;
  readonly filledQuantity: Money;
  readonly detail: string | null;
}

export interface PaperTradeRow {
  readonly id: string;
  readonly clientOrderId: string;
  readonly venueOrderId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly price: Money;
  readonly quantity: Money;
  readonly fee: Money;
  readonly feeCurrency: string;
  readonly at: Date;
}

interface OrderRow {
  client_order_id: string;
  venue_order_id: string;
  symbol: string;
  side: OrderSide;
  type: OrderType;
  quantity: string;
  price: string | null;
  time_in_force: TimeInForce | null;
  post_only: boolean;
  status: VenueOrderStatus;
  filled_quantity: string;
  detail: string | null;
}

interface TradeRow {
  id: string;
  client_order_id: string;
  venue_order_id: string;
  symbol: string;
  side: OrderSide;
  price: string;
  quantity: string;
  fee: string;
  fee_currency: string;
  at: Date;
}

const ORDER_COLUMNS = `client_order_id, venue_order_id::text AS venue_order_id, symbol, side, type, quantity::text,
  price::text, time_in_force, post_only, status, filled_quantity::text, detail`;

/**
 * The paper venue's book (execution.paper_orders, execution.paper_trades): what a simulated exchange holds,
 * apart from the desk's own orders. Its transactions are the venue's, short and never around a desk's one.
 */
@Injectable()
export class PaperVenueRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /**
   * Takes a new order and returns it as the book now holds it (locked: this transaction wrote it);
   * undefined when the client order id is already in the book (a venue refuses duplicates).
   */
  async insert(
    tx: EntityManager,
    o: Omit<PaperOrderRow, 'venueOrderId' | 'filledQuantity' | 'detail'>,
  ): Promise<PaperOrderRow | undefined> {
    const rows: OrderRow[] = await tx.query(
      `INSERT INTO execution.paper_orders
         (client_order_id, symbol, side, type, quantity, price, time_in_force, post_only, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (client_order_id) DO NOTHING RETURNING ${ORDER_COLUMNS}`,
      [
        o.clientOrderId,
        o.symbol,
        o.side,
        o.type,
        toWire(o.quantity),
        o.price ? toWire(o.price) : null,
        o.timeInForce,
        o.postOnly,
        o.status,
      ],
    );
    return rows[0] && toOrder(rows[0]);
  }

  async lock(tx: EntityManager, clientOrderId: string): Promise<PaperOrderRow | undefined> {
    const rows: OrderRow[] = await tx.query(
      `SELECT ${ORDER_COLUMNS} FROM execution.paper_orders WHERE client_order_id = $1 FOR UPDATE`,
      [clientOrderId],
    );
    return rows[0] && toOrder(rows[0]);
  }

  async setStatus(
    tx: EntityManager,
    clientOrderId: string,
    status: VenueOrderStatus,
    detail: string | null,
  ): Promise<void> {
    await tx.query(
      `UPDATE execution.paper_orders SET status = $2, detail = $3, updated_at = now() WHERE client_order_id = $1`,
      [clientOrderId, status, detail],
    );
  }

  /**
   * Records a trade of the order and, in the same statement, its filled quantity and its status after it.
   * Returns the trade as trades() would read it.
   */
  async addTrade(
    tx: EntityManager,
    order: PaperOrderRow,
    trade: { price: Money; quantity: Money; fee: Money; feeCurrency: string; at: Date },
    after: { status: VenueOrderStatus; detail: string | null },
  ): Promise<PaperTradeRow> {
    const rows: TradeRow[] = await tx.query(
      `WITH t AS (
         INSERT INTO execution.paper_trades (client_order_id, symbol, side, price, quantity, fee, fee_currency, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         RETURNING id::text AS id, client_order_id, symbol, side, price::text, quantity::text, fee::text,
                   fee_currency, at),
       o AS (
         UPDATE execution.paper_orders
            SET filled_quantity = filled_quantity + $5, status = $9, detail = $10, updated_at = now()
          WHERE client_order_id = $1
          RETURNING venue_order_id::text AS venue_order_id)
       SELECT t.*, o.venue_order_id FROM t, o`,
      [
        order.clientOrderId,
        order.symbol,
        order.side,
        toWire(trade.price),
        toWire(trade.quantity),
        toWire(trade.fee),
        trade.feeCurrency,
        trade.at,
        after.status,
        after.detail,
      ],
    );
    const row = rows[0];
    if (!row) throw new Error(`paper order ${order.clientOrderId} vanished inside its transaction`);
    return toTrade(row);
  }

  async trades(tx: EntityManager | undefined, clientOrderId: string): Promise<PaperTradeRow[]> {
    const rows: TradeRow[] = await (tx ?? this.db).query(
      `SELECT t.id::text AS id, t.client_order_id, o.venue_order_id::text AS venue_order_id, t.symbol, t.side,
              t.price::text, t.quantity::text, t.fee::text, t.fee_currency, t.at
         FROM execution.paper_trades t JOIN execution.paper_orders o USING (client_order_id)
        WHERE t.client_order_id = $1 ORDER BY t.id`,
      [clientOrderId],
    );
    return rows.map(toTrade);
  }

  async openOrders(): Promise<PaperOrderRow[]> {
    const rows: OrderRow[] = await this.db.query(
      `SELECT ${ORDER_COLUMNS} FROM execution.paper_orders WHERE status = 'open' ORDER BY venue_order_id`,
    );
    return rows.map(toOrder);
  }

  async tradesSince(symbols: readonly string[], since: Date): Promise<PaperTradeRow[]> {
    const rows: TradeRow[] = await this.db.query(
      `SELECT t.id::text AS id, t.client_order_id, o.venue_order_id::text AS venue_order_id, t.symbol, t.side,
              t.price::text, t.quantity::text, t.fee::text, t.fee_currency, t.at
         FROM execution.paper_trades t JOIN execution.paper_orders o USING (client_order_id)
        WHERE t.symbol = ANY($1::text[]) AND t.at >= $2 ORDER BY t.id`,
      [[...symbols], since],
    );
    return rows.map(toTrade);
  }

  /**
   * Net amount of each asset the paper account's trades moved (bought base +, quote spent −, fees −), and
   * what open orders hold (a buy holds quote at its limit price, a sell holds base).
   */
  async assetMovements(): Promise<{ asset: string; moved: Money; held: Money }[]> {
    const rows: { asset: string; moved: string; held: string }[] = await this.db.query(
      `WITH legs AS (
         SELECT split_part(symbol, '/', 1) AS asset,
                CASE WHEN side = 'buy' THEN quantity ELSE -quantity END AS moved, 0::numeric AS held
           FROM execution.paper_trades
         UNION ALL
         SELECT split_part(symbol, '/', 2),
                CASE WHEN side = 'buy' THEN -(price * quantity) ELSE price * quantity END - fee, 0
           FROM execution.paper_trades
         UNION ALL
         SELECT CASE WHEN side = 'buy' THEN split_part(symbol, '/', 2) ELSE split_part(symbol, '/', 1) END,
                0,
                CASE WHEN side = 'buy' THEN COALESCE(price, 0) * (quantity - filled_quantity)
                     ELSE quantity - filled_quantity END
           FROM execution.paper_orders WHERE status = 'open'
       )
       SELECT asset, sum(moved)::text AS moved, sum(held)::text AS held FROM legs GROUP BY asset ORDER BY asset`,
    );
    return rows.map((r) => ({ asset: r.asset, moved: money(r.moved), held: money(r.held) }));
  }
}

function toOrder(r: OrderRow): PaperOrderRow {
  return {
    clientOrderId: r.client_order_id,
    venueOrderId: r.venue_order_id,
    symbol: r.symbol,
    side: r.side,
    type: r.type,
    quantity: money(r.quantity),
    price: r.price === null ? null : money(r.price),
    timeInForce: r.time_in_force,
    postOnly: r.post_only,
    status: r.status,
    filledQuantity: money(r.filled_quantity),
    detail: r.detail,
  };
}

function toTrade(r: TradeRow): PaperTradeRow {
  return {
    id: r.id,
    clientOrderId: r.client_order_id,
    venueOrderId: r.venue_order_id,
    symbol: r.symbol,
    side: r.side,
    price: money(r.price),
    quantity: money(r.quantity),
    fee: money(r.fee),
    feeCurrency: r.fee_currency,
    at: r.at,
  };
}
