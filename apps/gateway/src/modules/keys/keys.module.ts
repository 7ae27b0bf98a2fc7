import { Module } from '@nestjs/common';
import { ApprovalsCoreModule } from '../approvals/approvals-core.module';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { OperatorsModule } from '../operators/operators.module';
import { SetupModule } from '../setup/setup.module';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';
import { BootstrapService } from './bootstrap.service';
import { KeysController } from './keys.controller';

@Module({
  imports: [ApprovalsCoreModule, IdempotencyModule, OperatorsModule, SetupModule],
  controllers: [KeysController],
  providers: [ApiKeysRepository, ApiKeysService, BootstrapService],
  exports: [ApiKeysRepository, ApiKeysService, BootstrapService],
})
export class KeysModule {}
