import { Module } from '@nestjs/common';
import { StateModule } from '../state/state.module';
import { RiskMonitor } from './risk-monitor';

@Module({ imports: [StateModule], providers: [RiskMonitor], exports: [RiskMonitor] })
export class MonitorModule {}
