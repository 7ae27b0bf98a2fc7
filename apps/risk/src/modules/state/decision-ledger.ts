import { OrderSide, OrderStatus, money, type Actor, type OrderParams } from '@desk/contracts';
import type { Activity, Pending, RiskStatus } from './intents.repository';

/** What the ledger is read from: the desk's recorded intents at the batch's moment (IntentsRepository.ledger). */
export interface LedgerReading {
  /** Accepted orders that may still fill, by symbol. */
  readonly pending: ReadonlyMap<string, Pending>;
  /** Intents received in the last minute, by symbol (risk's own closing orders not counted). */
  readonly lastMinuteBySymbol: ReadonlyMap<string, number>;
  /** Orders let through (accepted or held for approval) since the trading day began. */
  readonly ordersToday: number;
  /** Open orders (held for approval, or accepted and not final) of each actor of the batch (actorKey). */
  readonly openByActor: ReadonlyMap<string, number>;
}

/**
 * The working state a decision batch changes, held in memory for the batch (docs/adr/0024): pending
 * exposure, the rate and per-day counts, and each actor's open orders. It is read once, after the batch's
 * transaction has locked the book (so nothing else changes those rows until it commits), and each decision
 * of the batch is added to it, so that the next one sees it exactly as it would see it committed: an
 * accepted order is pending exposure, every recorded intent counts toward the rate, and one let through
 * (accepted or held) is an order of the day and an open order of its actor.
 *
 * The whole batch is judged at one moment (`now`), the moment the counts were read for.
 */
export class DecisionLedger {
  private readonly pendingBySymbol: Map<string, Pending>;
  private readonly lastMinuteBySymbol: Map<string, number>;
  private readonly openByActor: Map<string, number>;
  private lastMinuteTotal = 0;
  private ordersToday: number;

  constructor(reading: LedgerReading) {
    this.pendingBySymbol = new Map(reading.pending);
    this.lastMinuteBySymbol = new Map(reading.lastMinuteBySymbol);
    this.openByActor = new Map(reading.openByActor);
    for (const n of reading.lastMinuteBySymbol.values()) this.lastMinuteTotal += n;
    this.ordersToday = reading.ordersToday;
  }

  /** Accepted orders that may still fill, by symbol, the batch's earlier decisions included. */
  pending(): ReadonlyMap<string, Pending> {
    return this.pendingBySymbol;
  }

  /** The counts for an intent about to be decided (itself not included). */
  activity(symbol: string, actor: Actor): Activity {
    return {
      submitsLastMinuteSymbol: this.lastMinuteBySymbol.get(symbol) ?? 0,
      submitsLastMinuteTotal: this.lastMinuteTotal,
      ordersToday: this.ordersToday,
      openOrdersOfActor: this.openByActor.get(actorKey(actor)) ?? 0,
    };
  }

  /** An intent the batch records, with its decision: the next decision counts it. */
  record(order: OrderParams, actor: Actor, status: RiskStatus): void {
    this.lastMinuteBySymbol.set(order.symbol, (this.lastMinuteBySymbol.get(order.symbol) ?? 0) + 1);
    this.lastMinuteTotal += 1;
    if (status === OrderStatus.Rejected) return;
    this.ordersToday += 1;
    const key = actorKey(actor);
    this.openByActor.set(key, (this.openByActor.get(key) ?? 0) + 1);
    if (status !== OrderStatus.Accepted) return;
    const zero = money('0');
    const p = this.pendingBySymbol.get(order.symbol) ?? { buy: zero, sell: zero };
    const quantity = money(order.quantity);
    this.pendingBySymbol.set(
      order.symbol,
      order.side === OrderSide.Buy
        ? { ...p, buy: p.buy.plus(quantity) }
        : { ...p, sell: p.sell.plus(quantity) },
    );
  }
}

/** One key per actor (its type and id; the key it used does not matter: an operator's orders are theirs). */
export function actorKey(actor: Pick<Actor, 'type' | 'id'>): string {
  return `${actor.type}\u0000${actor.id}`;
}
