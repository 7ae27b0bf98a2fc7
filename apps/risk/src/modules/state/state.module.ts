import { Module } from '@nestjs/common';
import { LeadershipModule } from '../leadership/leadership.module';
import { BookLockService } from './book-lock.service';
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
  BookLockService,
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

@Module({ imports: [LeadershipModule], providers: PROVIDERS, exports: PROVIDERS })
export class StateModule {}
