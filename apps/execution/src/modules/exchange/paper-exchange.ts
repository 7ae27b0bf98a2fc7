import { PAPER_VENUE, findMarket } from '@desk/contracts';
import type { MarketPriceStore } from '@desk/platform';
import type { ExchangeAdapter, ExchangeOrder, ExchangeOrderState } from './exchange-adapter';
import type { PaperFillModel } from './paper-fill-model';

/**
 * A simulated venue: keeps no book of its own. Execution's order rows are the book, so asking about an
 * order is evaluating it again against the current market price.
 */
export class PaperExchange implements ExchangeAdapter {
  readonly venue = PAPER_VENUE;
  readonly live = false;

  constructor(
    private readonly prices: MarketPriceStore,
    private readonly model: PaperFillModel,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  placeOrder(order: ExchangeOrder): Promise<ExchangeOrderState> {
    return this.evaluate(order);
  }

  fetchOrderByClientId(order: ExchangeOrder): Promise<ExchangeOrderState> {
    return this.evaluate(order);
  }

  /** Nothing rests at a paper venue: execution's order rows are the book, so cancelling there is enough. */
  cancelOrder(): Promise<void> {
    return Promise.resolve();
  }

  private async evaluate(order: ExchangeOrder): Promise<ExchangeOrderState> {
    const market = findMarket(order.symbol);
    if (!market) throw new Error(`paper exchange has no market ${order.symbol}`);
    return this.model.evaluate(order, market, await this.prices.get(order.symbol), this.clock());
  }
}
