import { Inject, Injectable } from '@nestjs/common';
import { OrderType, findMarket, money, type OrderParams } from '@desk/contracts';
import { MarketPriceStore } from '@desk/platform';
import { RISK_CONFIG, type RiskConfig } from '../../config';
import { BASIC_RULES } from './basic-rules';
import { runChecks, type RiskDecision, type RiskLimits } from './risk-rule';

/** Gathers what the rules need (market, last price, limits) and runs them. */
@Injectable()
export class RiskCheckService {
  private readonly limits: RiskLimits;

  constructor(
    @Inject(RISK_CONFIG) private readonly config: RiskConfig,
    @Inject(MarketPriceStore) private readonly prices: MarketPriceStore,
  ) {
    this.limits = {
      maxOrderNotional: money(config.RISK_MAX_ORDER_NOTIONAL),
      maxPriceAgeMs: config.RISK_MAX_PRICE_AGE_MS,
    };
  }

  async evaluate(order: OrderParams, now: Date): Promise<RiskDecision> {
    const market = findMarket(order.symbol, this.config.TRADING_SYMBOLS);
    const lastPrice =
      market && order.type === OrderType.Market ? await this.prices.get(order.symbol) : undefined;
    return runChecks(BASIC_RULES, { order, market, lastPrice, limits: this.limits, now });
  }
}
