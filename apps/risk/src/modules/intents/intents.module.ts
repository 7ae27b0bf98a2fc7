import { Module } from '@nestjs/common';
import { ChecksModule } from '../checks/checks.module';
import { StateModule } from '../state/state.module';
import { DecisionRedriveRepository } from './decision-redrive.repository';
import { DecisionRedriveService } from './decision-redrive.service';
import { IntentSourcesRepository } from './intent-sources.repository';
import { IntentsProcessor } from './intents.processor';
import { IntentsService } from './intents.service';

@Module({
  imports: [ChecksModule, StateModule],
  providers: [
    IntentsService,
    IntentsProcessor,
    IntentSourcesRepository,
    DecisionRedriveRepository,
    DecisionRedriveService,
  ],
  exports: [DecisionRedriveService],
})
export class IntentsModule {}
