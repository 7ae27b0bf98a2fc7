import { Module } from '@nestjs/common';
import { CredentialsModule } from '../credentials/credentials.module';
import { SetupController } from './setup.controller';
import { SetupRepository } from './setup.repository';
import { SetupService } from './setup.service';

@Module({
  imports: [CredentialsModule],
  controllers: [SetupController],
  providers: [SetupRepository, SetupService],
  exports: [SetupService],
})
export class SetupModule {}
