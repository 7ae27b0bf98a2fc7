import { Module } from '@nestjs/common';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { OperatorsController } from './operators.controller';
import { OperatorsRepository } from './operators.repository';
import { OperatorsService } from './operators.service';

@Module({
  imports: [IdempotencyModule],
  controllers: [OperatorsController],
  providers: [OperatorsRepository, OperatorsService],
  exports: [OperatorsService, OperatorsRepository],
})
export class OperatorsModule {}
