import { Module } from '@nestjs/common';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { OrderQueryRepository } from './order-query.repository';
import { OrderSubmissionService } from './order-submission.service';
import { OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';
import { SubmissionRepository } from './submission.repository';

@Module({
  imports: [IdempotencyModule],
  controllers: [OrdersController],
  providers: [OrderSubmissionService, OrdersService, OrderQueryRepository, SubmissionRepository],
})
export class OrdersModule {}
