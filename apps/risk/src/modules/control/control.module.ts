import { Module } from '@nestjs/common';
import { StateModule } from '../state/state.module';
import { ControlProcessor } from './control.processor';
import { ControlRepository } from './control.repository';
import { ControlService } from './control.service';

@Module({
  imports: [StateModule],
  providers: [ControlRepository, ControlService, ControlProcessor],
})
export class ControlModule {}
