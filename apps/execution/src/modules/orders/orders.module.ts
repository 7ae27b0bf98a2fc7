import { Module } from '@nestjs/common';
import { ExchangeModule } from '../exchange/exchange.module';
import { OpenOrderTicker } from './open-order-ticker';
import { OrderAcceptedProcessor } from './order-accepted.processor';
import { OrderExecutionService } from './order-execution.service';
import { OrdersRepository } from './orders.repository';

@Module({
  imports: [ExchangeModule],
  providers: [OrdersRepository, OrderExecutionService, OrderAcceptedProcessor, OpenOrderTicker],
})
export class OrdersModule {}
