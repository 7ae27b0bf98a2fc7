import { Module } from '@nestjs/common';
import { ExchangeModule } from '../exchange/exchange.module';
import { ExecutionMetrics } from './execution-metrics.service';
import { ControlsRepository } from './controls.repository';
import { OpenOrderTicker } from './open-order-ticker';
import { OrderExecutionService } from './order-execution.service';
import { OrdersProcessor } from './orders.processor';
import { OrdersRepository } from './orders.repository';

@Module({
  imports: [ExchangeModule],
  providers: [
    OrdersRepository,
    ControlsRepository,
    OrderExecutionService,
    OrdersProcessor,
    OpenOrderTicker,
    ExecutionMetrics,
  ],
})
export class OrdersModule {}
