import { Module } from '@nestjs/common';
import { MARKET_CATALOG, type MarketSpec } from '@desk/contracts';
import { AGENT_ANALYSIS_CONFIG, type AgentAnalysisConfig } from '../../config';
import { createCcxtFeed } from './ccxt-feed';
import { CsvReplayFeed } from './csv-feed';
import { MARKET_FEED, type MarketFeed } from './market-feed';
import { SimulatedFeed } from './sim-feed';

/** Builds the feed chosen by MARKET_FEED; a bad CSV file or exchange id fails the boot with a clear message. */
export async function createMarketFeed(config: AgentAnalysisConfig): Promise<MarketFeed> {
  const markets: MarketSpec[] = MARKET_CATALOG.filter((m) => config.TRADING_SYMBOLS.includes(m.symbol));
  switch (config.MARKET_FEED) {
    case 'sim':
      return new SimulatedFeed({ seed: config.MARKET_FEED_SEED, markets });
    case 'csv':
      return CsvReplayFeed.fromFile(config.MARKET_FEED_CSV_PATH ?? '', markets);
    case 'ccxt':
      return createCcxtFeed(config.MARKET_FEED_EXCHANGE, markets, config.MARKET_FEED_TIMEFRAME);
    default: {
      const unreachable: never = config.MARKET_FEED;
      throw new Error(`unknown MARKET_FEED ${String(unreachable)}`);
    }
  }
}

@Module({
  providers: [{ provide: MARKET_FEED, inject: [AGENT_ANALYSIS_CONFIG], useFactory: createMarketFeed }],
  exports: [MARKET_FEED],
})
export class MarketFeedModule {}
