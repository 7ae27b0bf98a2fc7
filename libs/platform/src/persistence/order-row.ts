import { money, toWire, type Actor, type OrderParams } from '@desk/contracts';

/** The actor and order columns of an order record (risk.intents and the views over it and its sources). */
export interface OrderRow {
  actor_type: Actor['type'];
  actor_id: string;
  actor_key_id: string | null;
  symbol: string;
  side: OrderParams['side'];
  type: OrderParams['type'];
  quantity: string;
  price: string | null;
}

/** The actor of a row, as jobs carry it (a key id only when there is one). */
export function actorOfRow(r: Pick<OrderRow, 'actor_type' | 'actor_id' | 'actor_key_id'>): Actor {
  return { type: r.actor_type, id: r.actor_id, ...(r.actor_key_id ? { keyId: r.actor_key_id } : {}) };
}

/** The order of a row, its decimals in canonical wire form ("1.5", not PostgreSQL's "1.50"). */
export function orderOfRow(
  r: Pick<OrderRow, 'symbol' | 'side' | 'type' | 'quantity' | 'price'>,
): OrderParams {
  return {
    symbol: r.symbol,
    side: r.side,
    type: r.type,
    quantity: toWire(money(r.quantity)),
    ...(r.price === null ? {} : { price: toWire(money(r.price)) }),
  };
}
