import { Module } from '@nestjs/common';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { OperatorsModule } from '../operators/operators.module';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';
import { BootstrapService } from './bootstrap.service';
import { KeysController } from './keys.controller';

@Module({
  imports: [IdempotencyModule, OperatorsModule],
  controllers: [KeysController],
  providers: [ApiKeysRepository, ApiKeysService, BootstrapService],
  exports: [ApiKeysRepository, ApiKeysService, BootstrapService],
})
export class KeysModule {}
