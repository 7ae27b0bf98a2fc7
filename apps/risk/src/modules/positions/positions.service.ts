import { Inject, Injectable } from '@nestjs/common';
import { OrderSide, OrderStatus, money, type ExecutionReported, type Money } from '@desk/contracts';
import { PositionsRepository } from './positions.repository';

/** Keeps risk's exposure view from execution reports: only FILLED reports carrying a fill move a position. */
@Injectable()
export class PositionsService {
  constructor(@Inject(PositionsRepository) private readonly repository: PositionsRepository) {}

  async handle(report: ExecutionReported): Promise<{ applied: boolean }> {
    if (report.status !== OrderStatus.Filled || !report.fill) return { applied: false };
    const applied = await this.repository.applyFill({
      fillId: report.fill.fillId,
      intentId: report.intentId,
      symbol: report.symbol,
      quantity: signed(report.side, money(report.fill.quantity)),
    });
    return { applied };
  }
}

function signed(side: OrderSide, quantity: Money): Money {
  switch (side) {
    case OrderSide.Buy:
      return quantity;
    case OrderSide.Sell:
      return quantity.negated();
    default: {
      const unreachable: never = side;
      throw new Error(`unknown side ${String(unreachable)}`);
    }
  }
}
