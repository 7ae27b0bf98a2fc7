import { Module } from '@nestjs/common';
import { ExchangeModule } from '../exchange/exchange.module';
import { ExecutionMetrics } from './execution-metrics.service';
import { ControlsRepository } from './controls.repository';
import { OpenOrderTicker } from './open-order-ticker';
import { OrderCancelsProcessor } from './order-cancels.processor';
import { OrderExecutionService } from './order-execution.service';
import { OrderRecorder } from './order-recorder.service';
import { OrdersProcessor } from './orders.processor';
import { OrdersRepository } from './orders.repository';
import { VenueMarkets } from './venue-markets.service';
import { VenueMarketsRepository } from './venue-markets.repository';

@Module({
  imports: [ExchangeModule],
  providers: [
    OrdersRepository,
    ControlsRepository,
    OrderRecorder,
    OrderExecutionService,
    OrdersProcessor,
    OrderCancelsProcessor,
    OpenOrderTicker,
    ExecutionMetrics,
    VenueMarketsRepository,
    VenueMarkets,
  ],
  exports: [OrderExecutionService, OrdersRepository, VenueMarkets],
})
export class OrdersModule {}
