import { TimeInForce, money, toWire, type Actor, type OrderParams } from '@desk/contracts';

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
  /**
   * The time in force exactly as the order carried it (null: none given, GTC for a limit order). Absent from
   * the rows of views that do not record it (an agent's intents never carry one).
   */
  time_in_force?: string | null;
  /** Whether the order is post-only (false: not, or not recorded by the view). */
  post_only?: boolean | null;
}

/** The actor of a row, as jobs carry it (a key id only when there is one). */
export function actorOfRow(r: Pick<OrderRow, 'actor_type' | 'actor_id' | 'actor_key_id'>): Actor {
  return { type: r.actor_type, id: r.actor_id, ...(r.actor_key_id ? { keyId: r.actor_key_id } : {}) };
}

/**
 * The order of a row, its decimals in canonical wire form ("1.5", not PostgreSQL's "1.50"); timeInForce and
 * postOnly only when recorded (as the job that carried the order had them: an explicit GTC stays GTC).
 */
export function orderOfRow(
  r: Pick<OrderRow, 'symbol' | 'side' | 'type' | 'quantity' | 'price' | 'time_in_force' | 'post_only'>,
): OrderParams {
  return {
    symbol: r.symbol,
    side: r.side,
    type: r.type,
    quantity: toWire(money(r.quantity)),
    ...(r.price === null ? {} : { price: toWire(money(r.price)) }),
    ...(r.time_in_force ? { timeInForce: timeInForceOf(r.time_in_force) } : {}),
    ...(r.post_only ? { postOnly: true } : {}),
  };
}

/** A recorded time in force; a value no order schema allows is a corrupt record, never silently dropped. */
function timeInForceOf(value: string): TimeInForce {
  const known: readonly string[] = Object.values(TimeInForce);
  if (!known.includes(value)) {
    throw new Error(`recorded time in force "${value.slice(0, 20)}" is not one of ${known.join(', ')}`);
  }
  return value as TimeInForce;
}
