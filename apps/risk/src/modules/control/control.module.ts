import { Module } from '@nestjs/common';
import { StateModule } from '../state/state.module';
import { ControlProcessor } from './control.processor';
import { ControlRepository } from './control.repository';
import { ControlSourcesRepository } from './control-sources.repository';
import { ControlService } from './control.service';

@Module({
  imports: [StateModule],
  providers: [ControlRepository, ControlSourcesRepository, ControlService, ControlProcessor],
})
export class ControlModule {}
