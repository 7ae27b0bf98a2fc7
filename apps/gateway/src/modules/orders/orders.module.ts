import { Module } from '@nestjs/common';
import { MarketCatalogModule } from '@desk/platform';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { OrderProjectionModule } from '../order-projection/order-projection.module';
import { OrderQueryRepository } from './order-query.repository';
import { OrderSubmissionService } from './order-submission.service';
import { OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';
import { SubmissionRepository } from './submission.repository';

@Module({
  imports: [IdempotencyModule, OrderProjectionModule, MarketCatalogModule],
  controllers: [OrdersController],
  providers: [OrderSubmissionService, OrdersService, OrderQueryRepository, SubmissionRepository],
})
export class OrdersModule {}
