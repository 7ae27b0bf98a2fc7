import { Module } from '@nestjs/common';
import { ExchangeModule } from '../exchange/exchange.module';
import { OrdersModule } from '../orders/orders.module';
import { ReconciliationRepository } from './reconciliation.repository';
import { ReconciliationService } from './reconciliation.service';

@Module({
  imports: [ExchangeModule, OrdersModule],
  providers: [ReconciliationRepository, ReconciliationService],
  exports: [ReconciliationService],
})
export class ReconciliationModule {}
