import { Module } from '@nestjs/common';
import { ChecksModule } from '../checks/checks.module';
import { IntentSubmittedProcessor } from './intent-submitted.processor';
import { IntentsRepository } from './intents.repository';
import { IntentsService } from './intents.service';

@Module({
  imports: [ChecksModule],
  providers: [IntentsRepository, IntentsService, IntentSubmittedProcessor],
})
export class IntentsModule {}
