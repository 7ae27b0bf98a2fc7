import {
  MARKET_CATALOG,
  Money,
  OrderType,
  PAPER_VENUE,
  RiskReasonCode,
  TimeInForce,
  findMarket,
  money,
  type MarketSpec,
} from '@desk/contracts';
import { Batcher, inLockOrder, type MarketPriceStore } from '@desk/platform';
import type { EntityManager } from 'typeorm';
import type {
  ExchangeAdapter,
  ExchangeOrder,
  VenueBalance,
  VenueOpenOrder,
  VenueOrderReport,
  VenueOrderStatus,
  VenueTrade,
} from './exchange-adapter';
import type { LastPrice, PaperFillModel } from './paper-fill-model';
import type { PaperOrderRow, PaperTradeRow, PaperVenueRepository } from './paper-venue.repository';

/** An order on its way into the paper book, with what was known when it was sent. */
interface Placement {
  readonly order: ExchangeOrder;
  readonly market: MarketSpec;
  readonly last: LastPrice | undefined;
  readonly refused: boolean;
}

/**
 * A simulated venue with a book of its own (execution.paper_orders and paper_trades), speaking the same
 * state model as a real one: orders rest, fill in parts against the liquidity on offer, expire (IOC/FOK),
 * are refused (post-only that would take) and cancelled. An order is matched whenever the desk asks about
 * it (placement, each tick), against the last market price. Its catalog is the static MARKET_CATALOG.
 */
export class PaperExchange implements ExchangeAdapter {
  readonly venue = PAPER_VENUE;
  readonly live = false;
  /** Placements arriving together, taken in one venue transaction (docs/adr/0024). */
  private readonly placements = new Batcher<Placement, VenueOrderReport | undefined>({
    maxSize: 32,
    maxWaitMs: 0,
    write: (items) => this.placeBatch(items),
  });

  constructor(
    private readonly book: PaperVenueRepository,
    private readonly prices: MarketPriceStore,
    private readonly model: PaperFillModel,
    private readonly startingBalances: ReadonlyMap<string, Money>,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  loadMarkets(): Promise<MarketSpec[]> {
    return Promise.resolve([...MARKET_CATALOG]);
  }

  async placeOrder(order: ExchangeOrder): Promise<VenueOrderReport> {
    const market = this.market(order.symbol);
    const last = await this.prices.get(order.symbol);
    const refused = order.postOnly && this.model.wouldTake(order, last);
    const report = await this.placements.submit({ order, market, last, refused });
    if (!report) throw new Error(`paper order ${order.clientOrderId} vanished from the book`);
    return report;
  }

  /**
   * Placements that arrive together share one venue transaction, each taken and matched once as if alone
   * (in client order id order, so two batches lock the book's rows alike); a batch that fails is placed
   * again order by order (Batcher).
   */
  private async placeBatch(items: Placement[]): Promise<(VenueOrderReport | undefined)[]> {
    const turns = inLockOrder(items, (p) => [p.order.clientOrderId]);
    return this.book.transaction(async (tx) => {
      const reports: (VenueOrderReport | undefined)[] = [];
      for (const { item, index } of turns) reports[index] = await this.place(tx, item);
      return reports;
    });
  }

  /** One venue step: take the order, match it once, report it. */
  private async place(tx: EntityManager, p: Placement): Promise<VenueOrderReport | undefined> {
    const { order, market, last, refused } = p;
    // A duplicate client order id leaves the book as it is: the report is the first order's.
    const taken = await this.book.insert(tx, {
      clientOrderId: order.clientOrderId,
      symbol: order.symbol,
      side: order.side,
      type: order.type,
      quantity: order.quantity,
      price: order.price,
      timeInForce: order.type === OrderType.Limit ? (order.timeInForce ?? TimeInForce.Gtc) : null,
      postOnly: order.postOnly,
      status: refused ? 'rejected' : 'open',
    });
    if (taken && refused) {
      await this.book.setStatus(tx, order.clientOrderId, 'rejected', 'post-only order would take liquidity');
    }
    // A new order is matched as this transaction wrote it (no second read); a duplicate as the book has it.
    const held = taken && !refused ? taken : undefined;
    return this.matchIn(tx, order.clientOrderId, market, last, this.clock(), held);
  }

  /**
   * Matches the order against the last price, unless that price is not older than the desk's question:
   * then the order is reported as it stands and the next lookup matches it. The venue so answers as of the
   * moment the desk decided to ask, which makes a halt final for paper orders (a lookup decided before the
   * halt cannot fill against a price that came after it). A real venue keeps matching until a cancel
   * reaches it.
   */
  async fetchOrder(
    order: ExchangeOrder,
    _knownFilled: Money,
    askedAt: Date,
  ): Promise<VenueOrderReport | undefined> {
    const market = this.market(order.symbol);
    const last = await this.prices.get(market.symbol);
    if (last && last.at.getTime() >= askedAt.getTime()) return this.report(order.clientOrderId);
    const now = this.clock();
    return this.book.transaction((tx) => this.matchIn(tx, order.clientOrderId, market, last, now));
  }

  async cancelOrder(order: ExchangeOrder): Promise<VenueOrderReport | undefined> {
    const found = await this.book.transaction(async (tx) => {
      const row = await this.book.lock(tx, order.clientOrderId);
      if (row?.status === 'open') await this.book.setStatus(tx, row.clientOrderId, 'cancelled', 'cancelled');
      return row !== undefined;
    });
    return found ? this.report(order.clientOrderId) : undefined;
  }

  async fetchOpenOrders(): Promise<VenueOpenOrder[]> {
    return (await this.book.openOrders()).map((o) => ({
      clientOrderId: o.clientOrderId,
      venueOrderId: o.venueOrderId,
      symbol: o.symbol,
      side: o.side,
      quantity: o.quantity,
      filledQuantity: o.filledQuantity,
    }));
  }

  async fetchTrades(symbols: readonly string[], since: Date): Promise<VenueTrade[]> {
    return (await this.book.tradesSince(symbols, since)).map(toVenueTrade);
  }

  async fetchBalances(): Promise<VenueBalance[]> {
    const moved = new Map((await this.book.assetMovements()).map((m) => [m.asset, m]));
    const assets = new Set([...this.startingBalances.keys(), ...moved.keys()]);
    return [...assets].sort().map((asset) => {
      const total = (this.startingBalances.get(asset) ?? money('0')).plus(moved.get(asset)?.moved ?? 0);
      const used = moved.get(asset)?.held ?? money('0');
      return { asset, total, used, free: total.minus(used) };
    });
  }

  private async matchIn(
    tx: EntityManager,
    clientOrderId: string,
    market: MarketSpec,
    last: LastPrice | undefined,
    now: Date,
    held?: PaperOrderRow,
  ): Promise<VenueOrderReport | undefined> {
    const row = held ?? (await this.book.lock(tx, clientOrderId));
    if (!row) return undefined;
    if (row.status !== 'open') return toReport(row, await this.book.trades(tx, clientOrderId));
    const remaining = row.quantity.minus(row.filledQuantity);
    const m = this.model.match({ ...row, remaining }, market, last, now);
    let status: VenueOrderStatus = 'open';
    let detail: string | null = null;
    let filled = row.filledQuantity;
    let trade: PaperTradeRow | undefined;
    switch (m.kind) {
      case 'wait':
        detail = m.detail;
        break;
      case 'expire':
        status = 'expired';
        detail = m.detail;
        break;
      case 'fill': {
        filled = filled.plus(m.quantity);
        // IOC: what did not fill at once expires.
        if (m.quantity.eq(remaining)) status = 'filled';
        else if (row.timeInForce === TimeInForce.Ioc) {
          status = 'expired';
          detail = 'the rest of an IOC order expired';
        }
        // The trade, the filled quantity and the status after it, in one statement.
        trade = await this.book.addTrade(tx, row, { ...m, at: now }, { status, detail });
        break;
      }
      default: {
        const unreachable: never = m;
        throw new Error(`unknown match ${JSON.stringify(unreachable)}`);
      }
    }
    if (m.kind !== 'fill' && (status !== row.status || detail !== row.detail))
      await this.book.setStatus(tx, clientOrderId, status, detail);
    // The order's trades: none yet, only the one just made (no second read), or all of them, read.
    const trades = row.filledQuantity.isZero()
      ? trade
        ? [trade]
        : []
      : await this.book.trades(tx, clientOrderId);
    return toReport({ ...row, status, detail, filledQuantity: filled }, trades);
  }

  private async report(clientOrderId: string): Promise<VenueOrderReport | undefined> {
    return this.book.transaction(async (tx) => {
      const row = await this.book.lock(tx, clientOrderId);
      if (!row) return undefined;
      return toReport(row, await this.book.trades(tx, clientOrderId));
    });
  }

  private market(symbol: string): MarketSpec {
    const market = findMarket(symbol);
    if (!market) throw new Error(`the paper venue has no market ${symbol}`);
    return market;
  }
}

function toReport(row: PaperOrderRow, trades: readonly PaperTradeRow[]): VenueOrderReport {
  return {
    venueOrderId: row.venueOrderId,
    status: row.status,
    filledQuantity: row.filledQuantity,
    fills: trades.map((t) => ({
      tradeId: t.id,
      price: t.price,
      quantity: t.quantity,
      fee: t.fee,
      feeCurrency: t.feeCurrency,
      at: t.at,
    })),
    ...(row.detail ? { detail: row.detail } : {}),
    ...(row.status === 'rejected' ? { reasonCode: RiskReasonCode.PostOnlyWouldTake } : {}),
  };
}

function toVenueTrade(t: PaperTradeRow): VenueTrade {
  return {
    tradeId: t.id,
    clientOrderId: t.clientOrderId,
    venueOrderId: t.venueOrderId,
    symbol: t.symbol,
    side: t.side,
    price: t.price,
    quantity: t.quantity,
    fee: t.fee,
    feeCurrency: t.feeCurrency,
    at: t.at,
  };
}
