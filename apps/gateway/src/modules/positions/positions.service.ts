import { Inject, Injectable } from '@nestjs/common';
import { money, toWire, unrealizedPnl } from '@desk/contracts';
import { MarketPriceStore } from '@desk/platform';
import { PositionQueryRepository } from './position-query.repository';

export interface PositionView {
  symbol: string;
  quantity: string;
  averagePrice: string;
  lastPrice: string | null;
  /** (last − average) × quantity; null while no market price is known. */
  unrealizedPnl: string | null;
  realizedPnl: string;
  feesPaid: string;
  updatedAt: string;
}

@Injectable()
export class PositionsService {
  constructor(
    @Inject(PositionQueryRepository) private readonly positions: PositionQueryRepository,
    @Inject(MarketPriceStore) private readonly prices: MarketPriceStore,
  ) {}

  async list(): Promise<{ items: PositionView[] }> {
    const [rows, prices] = await Promise.all([this.positions.all(), this.prices.getAll()]);
    return {
      items: rows.map((r) => {
        const last = prices.get(r.symbol)?.price;
        const position = { quantity: money(r.quantity), averagePrice: money(r.average_price) };
        return {
          symbol: r.symbol,
          quantity: toWire(position.quantity),
          averagePrice: toWire(position.averagePrice),
          lastPrice: last ? toWire(last) : null,
          unrealizedPnl: last ? toWire(unrealizedPnl(position, last)) : null,
          realizedPnl: toWire(money(r.realized_pnl)),
          feesPaid: toWire(money(r.fees_paid)),
          updatedAt: r.updated_at.toISOString(),
        };
      }),
    };
  }
}
