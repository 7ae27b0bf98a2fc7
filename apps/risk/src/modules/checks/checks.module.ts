import { Module } from '@nestjs/common';
import { StateModule } from '../state/state.module';
import { RiskCheckService } from './risk-check.service';

@Module({ imports: [StateModule], providers: [RiskCheckService], exports: [RiskCheckService] })
export class ChecksModule {}
