import { Module } from '@nestjs/common';
import { ChecksModule } from '../checks/checks.module';
import { StateModule } from '../state/state.module';
import { IntentSourcesRepository } from './intent-sources.repository';
import { IntentsProcessor } from './intents.processor';
import { IntentsService } from './intents.service';

@Module({
  imports: [ChecksModule, StateModule],
  providers: [IntentsService, IntentsProcessor, IntentSourcesRepository],
})
export class IntentsModule {}
