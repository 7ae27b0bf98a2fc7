import { Module } from '@nestjs/common';
import { money } from '@desk/contracts';
import { MarketPriceStore, SECRETS, exchangeVar, type Secrets } from '@desk/platform';
import { EXECUTION_CONFIG, paperStartingBalances, type ExecutionConfig } from '../../config';
import { CcxtExchange } from './ccxt-exchange';
import { EXCHANGE_ADAPTER, type ExchangeAdapter } from './exchange-adapter';
import { PaperExchange } from './paper-exchange';
import { PaperFillModel } from './paper-fill-model';
import { PaperVenueRepository } from './paper-venue.repository';

/** The venue EXECUTION_MODE selects; a new mode is a compile error here until it has a case. */
async function createExchange(
  config: ExecutionConfig,
  prices: MarketPriceStore,
  book: PaperVenueRepository,
  secrets: Secrets,
): Promise<ExchangeAdapter> {
  switch (config.EXECUTION_MODE) {
    case 'paper':
      return new PaperExchange(
        book,
        prices,
        new PaperFillModel({
          slippageBps: config.PAPER_SLIPPAGE_BPS,
          feeBps: config.PAPER_FEE_BPS,
          maxPriceAgeMs: config.EXECUTION_MAX_PRICE_AGE_MS,
          liquidityNotional: money(config.PAPER_LIQUIDITY_NOTIONAL),
        }),
        paperStartingBalances(config),
      );
    case 'testnet':
    case 'live': {
      // The config refuses these modes without a venue listed in EXCHANGE_VENUES.
      const venue = config.EXECUTION_VENUE ?? '';
      const apiKey = await secrets.current(exchangeVar(venue, 'API_KEY'));
      const secret = await secrets.current(exchangeVar(venue, 'API_SECRET'));
      if (!apiKey || !secret) {
        throw new Error(
          `${exchangeVar(venue, 'API_KEY')} and ${exchangeVar(venue, 'API_SECRET')} are required to trade ${venue}`,
        );
      }
      return CcxtExchange.create({
        exchangeId: venue,
        mode: config.EXECUTION_MODE,
        apiKey,
        secret,
        timeoutMs: config.EXECUTION_VENUE_TIMEOUT_MS,
        recvWindowMs: config.EXECUTION_VENUE_RECV_WINDOW_MS,
        apiUrl: config.EXECUTION_VENUE_API_URL,
      });
    }
    default: {
      const unreachable: never = config.EXECUTION_MODE;
      throw new Error(`unknown EXECUTION_MODE ${String(unreachable)}`);
    }
  }
}

/** Provides the venue selected by EXECUTION_MODE under EXCHANGE_ADAPTER. */
@Module({
  providers: [
    PaperVenueRepository,
    {
      provide: EXCHANGE_ADAPTER,
      useFactory: createExchange,
      inject: [EXECUTION_CONFIG, MarketPriceStore, PaperVenueRepository, SECRETS],
    },
  ],
  exports: [EXCHANGE_ADAPTER],
})
export class ExchangeModule {}
