import { Module } from '@nestjs/common';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { CancelRequestsRepository } from './cancel-requests.repository';
import { OrderCancelsController } from './order-cancels.controller';
import { OrderCancelsService } from './order-cancels.service';

@Module({
  imports: [IdempotencyModule],
  controllers: [OrderCancelsController],
  providers: [OrderCancelsService, CancelRequestsRepository],
})
export class OrderCancelsModule {}
