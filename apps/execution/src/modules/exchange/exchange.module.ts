import { Module } from '@nestjs/common';
import { MarketPriceStore } from '@desk/platform';
import { EXECUTION_CONFIG, type ExecutionConfig } from '../../config';
import { EXCHANGE_ADAPTER, type ExchangeAdapter } from './exchange-adapter';
import { PaperExchange } from './paper-exchange';
import { PaperFillModel } from './paper-fill-model';

/** The config only admits "paper" for now; a new mode becomes a compile error here until it has a case. */
function createExchange(config: ExecutionConfig, prices: MarketPriceStore): ExchangeAdapter {
  switch (config.EXECUTION_MODE) {
    case 'paper':
      return new PaperExchange(
        prices,
        new PaperFillModel({
          slippageBps: config.PAPER_SLIPPAGE_BPS,
          feeBps: config.PAPER_FEE_BPS,
          maxPriceAgeMs: config.EXECUTION_MAX_PRICE_AGE_MS,
        }),
      );
    default: {
      const unreachable: never = config.EXECUTION_MODE;
      throw new Error(`unknown EXECUTION_MODE ${String(unreachable)}`);
    }
  }
}

/** Provides the venue selected by EXECUTION_MODE under EXCHANGE_ADAPTER. */
@Module({
  providers: [
    { provide: EXCHANGE_ADAPTER, useFactory: createExchange, inject: [EXECUTION_CONFIG, MarketPriceStore] },
  ],
  exports: [EXCHANGE_ADAPTER],
})
export class ExchangeModule {}
