import { Module } from '@nestjs/common';
import { ApprovalsCoreModule } from '../approvals/approvals-core.module';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { OperatorsModule } from '../operators/operators.module';
import { SetupModule } from '../setup/setup.module';
import { ApiKeysService } from './api-keys.service';
import { BootstrapService } from './bootstrap.service';
import { CredentialsModule } from '../credentials/credentials.module';
import { KeysController } from './keys.controller';

@Module({
  imports: [ApprovalsCoreModule, CredentialsModule, IdempotencyModule, OperatorsModule, SetupModule],
  controllers: [KeysController],
  providers: [ApiKeysService, BootstrapService],
  exports: [CredentialsModule, ApiKeysService, BootstrapService],
})
export class KeysModule {}
