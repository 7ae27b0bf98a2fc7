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
import type { MarketPriceStore } from '@desk/platform';
import type {
  ExchangeAdapter,
  ExchangeOrder,
  VenueBalance,
  VenueOpenOrder,
  VenueOrderReport,
  VenueTrade,
} from './exchange-adapter';
import type { PaperFillModel } from './paper-fill-model';
import type { PaperOrderRow, PaperTradeRow, PaperVenueRepository } from './paper-venue.repository';

/**
 * A simulated venue with a book of its own (execution.paper_orders and paper_trades), speaking the same
 * state model as a real one: orders rest, fill in parts against the liquidity on offer, expire (IOC/FOK),
 * are refused (post-only that would take) and cancelled. An order is matched whenever the desk asks about
 * it (placement, each tick), against the last market price. Its catalog is the static MARKET_CATALOG.
 */
export class PaperExchange implements ExchangeAdapter {
  readonly venue = PAPER_VENUE;
  readonly live = false;

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
    await this.book.transaction(async (tx) => {
      // A duplicate client order id leaves the book as it is: the report below is the first order's.
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
        await this.book.setStatus(
          tx,
          order.clientOrderId,
          'rejected',
          'post-only order would take liquidity',
        );
      }
    });
    const report = await this.match(order.clientOrderId, market);
    if (!report) throw new Error(`paper order ${order.clientOrderId} vanished from the book`);
    return report;
  }

  async fetchOrder(order: ExchangeOrder): Promise<VenueOrderReport | undefined> {
    return this.match(order.clientOrderId, this.market(order.symbol));
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

  /** Matches a working order against the book once, then reports it. */
  private async match(clientOrderId: string, market: MarketSpec): Promise<VenueOrderReport | undefined> {
    const last = await this.prices.get(market.symbol);
    const now = this.clock();
    const found = await this.book.transaction(async (tx) => {
      const row = await this.book.lock(tx, clientOrderId);
      if (!row) return false;
      if (row.status !== 'open') return true;
      const remaining = row.quantity.minus(row.filledQuantity);
      const m = this.model.match({ ...row, remaining }, market, last, now);
      switch (m.kind) {
        case 'wait':
          await this.book.setStatus(tx, clientOrderId, 'open', m.detail);
          return true;
        case 'expire':
          await this.book.setStatus(tx, clientOrderId, 'expired', m.detail);
          return true;
        case 'fill': {
          await this.book.addTrade(tx, row, { ...m, at: now });
          const done = m.quantity.eq(remaining);
          // IOC: what did not fill at once expires.
          if (done) await this.book.setStatus(tx, clientOrderId, 'filled', null);
          else if (row.timeInForce === TimeInForce.Ioc)
            await this.book.setStatus(tx, clientOrderId, 'expired', 'the rest of an IOC order expired');
          return true;
        }
        default: {
          const unreachable: never = m;
          throw new Error(`unknown match ${JSON.stringify(unreachable)}`);
        }
      }
    });
    return found ? this.report(clientOrderId) : undefined;
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
