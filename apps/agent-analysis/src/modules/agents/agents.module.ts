import { Module } from '@nestjs/common';
import { MarketFeedModule } from '../market-feed/market-feed.module';
import { AgentRunProcessor } from './agent-run.processor';
import { AgentRunService } from './agent-run.service';
import { AgentSchedule } from './agent-schedule';
import { AgentsRepository } from './agents.repository';

@Module({
  imports: [MarketFeedModule],
  providers: [AgentsRepository, AgentRunService, AgentRunProcessor, AgentSchedule],
})
export class AgentsModule {}
