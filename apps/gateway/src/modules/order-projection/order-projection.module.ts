import { Module } from '@nestjs/common';
import { OrderProjectionRepository } from './order-projection.repository';
import { OrderProjectionService } from './order-projection.service';
import { OrderSourcesRepository } from './order-sources.repository';
import { OrderUpdatedProcessor } from './order-updated.processor';

@Module({
  providers: [
    OrderProjectionRepository,
    OrderSourcesRepository,
    OrderProjectionService,
    OrderUpdatedProcessor,
  ],
  exports: [OrderProjectionRepository],
})
export class OrderProjectionModule {}
