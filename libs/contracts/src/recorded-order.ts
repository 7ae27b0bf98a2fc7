import type { Actor } from './jobs';
import { money } from './money';
import type { OrderParams } from './orders';

/**
 * An order as the service that decided or recorded it holds it (read from that service's declared view),
 * against which a job's claims are checked: a job is never its own evidence (docs/adr/0010).
 */
export interface RecordedOrder {
  readonly actor: Actor;
  readonly order: OrderParams;
}

/**
 * Where a job's order differs from the recorded one, field by field ("order.quantity: 5 ≠ recorded 0.1").
 * Empty when they are the same order. Decimals are compared as decimals ("0.10" equals "0.1"), never as
 * JavaScript numbers; strings and enums exactly.
 */
export function orderDifferences(recorded: OrderParams, claimed: OrderParams): string[] {
  const out: string[] = [];
  const differs = (field: string, a: string | undefined, b: string | undefined) =>
    out.push(`order.${field}: ${b ?? '(none)'} ≠ recorded ${a ?? '(none)'}`);
  if (recorded.symbol !== claimed.symbol) differs('symbol', recorded.symbol, claimed.symbol);
  if (recorded.side !== claimed.side) differs('side', recorded.side, claimed.side);
  if (recorded.type !== claimed.type) differs('type', recorded.type, claimed.type);
  if (!decimalEq(recorded.quantity, claimed.quantity))
    differs('quantity', recorded.quantity, claimed.quantity);
  if (!decimalEq(recorded.price, claimed.price)) differs('price', recorded.price, claimed.price);
  if (recorded.timeInForce !== claimed.timeInForce)
    differs('timeInForce', recorded.timeInForce, claimed.timeInForce);
  if ((recorded.postOnly ?? false) !== (claimed.postOnly ?? false))
    differs('postOnly', String(recorded.postOnly ?? false), String(claimed.postOnly ?? false));
  return out;
}

/** Where a job's actor differs from the recorded one (type, id and key id must all match). */
export function actorDifferences(recorded: Actor, claimed: Actor): string[] {
  const out: string[] = [];
  if (recorded.type !== claimed.type) out.push(`actor.type: ${claimed.type} ≠ recorded ${recorded.type}`);
  if (recorded.id !== claimed.id) out.push(`actor.id: ${claimed.id} ≠ recorded ${recorded.id}`);
  if ((recorded.keyId ?? null) !== (claimed.keyId ?? null))
    out.push(`actor.keyId: ${claimed.keyId ?? '(none)'} ≠ recorded ${recorded.keyId ?? '(none)'}`);
  return out;
}

/** The same order from the same actor. */
export function recordedOrderDifferences(recorded: RecordedOrder, claimed: RecordedOrder): string[] {
  return [
    ...actorDifferences(recorded.actor, claimed.actor),
    ...orderDifferences(recorded.order, claimed.order),
  ];
}

function decimalEq(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return money(a).eq(money(b));
}
