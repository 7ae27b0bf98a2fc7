import { Module } from '@nestjs/common';
import { CredentialsModule } from '../credentials/credentials.module';
import { ApprovalsCoreModule } from '../approvals/approvals-core.module';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { SetupModule } from '../setup/setup.module';
import { OperatorsController } from './operators.controller';
import { OperatorsRepository } from './operators.repository';
import { OperatorsService } from './operators.service';

@Module({
  imports: [ApprovalsCoreModule, CredentialsModule, IdempotencyModule, SetupModule],
  controllers: [OperatorsController],
  providers: [OperatorsRepository, OperatorsService],
  exports: [OperatorsService, OperatorsRepository],
})
export class OperatorsModule {}
