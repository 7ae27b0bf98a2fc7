import { Module } from '@nestjs/common';
import { BookService } from './book.service';
import { EquityRepository } from './equity.repository';
import { IntentsRepository } from './intents.repository';
import { LimitsRepository } from './limits.repository';
import { LimitsService } from './limits.service';
import { PositionsRepository } from './positions.repository';
import { RiskOrdersService } from './risk-orders.service';
import { TradingStateRepository } from './trading-state.repository';
import { TradingStateService } from './trading-state.service';
import { VenuesRepository } from './venues.repository';

/** Risk's persisted state (trading state, limits, intents, positions, equity, live venues) and what changes it. */
const PROVIDERS = [
  BookService,
  EquityRepository,
  IntentsRepository,
  LimitsRepository,
  LimitsService,
  PositionsRepository,
  RiskOrdersService,
  TradingStateRepository,
  TradingStateService,
  VenuesRepository,
];

@Module({ providers: PROVIDERS, exports: PROVIDERS })
export class StateModule {}
