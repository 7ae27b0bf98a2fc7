import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { MonitorModule } from '../monitor/monitor.module';
import { StateModule } from '../state/state.module';
import { LeaderDutiesService } from './leader-duties.service';

/** Starts and stops what only the writer instance does (docs/adr/0015). */
@Module({
  imports: [DiscoveryModule, MonitorModule, StateModule],
  providers: [LeaderDutiesService],
})
export class LeaderDutiesModule {}
