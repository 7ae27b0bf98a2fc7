import { DynamicModule, Module } from '@nestjs/common';
import { ServiceName } from '@desk/contracts';
import { PlatformModule, SERVICE_DATABASE_ROLES, type Secrets } from '@desk/platform';
import { AGENT_ANALYSIS_CONFIG, type AgentAnalysisConfig } from './config';
import { AgentsModule } from './modules/agents/agents.module';
import { AGENT_ANALYSIS_SCHEMA } from './schema';

@Module({})
export class AppModule {
  static forRoot(config: AgentAnalysisConfig, secrets?: Secrets): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({
          secrets,
          service: ServiceName.AgentAnalysis,
          config,
          configToken: AGENT_ANALYSIS_CONFIG,
          databaseRole: SERVICE_DATABASE_ROLES['agent-analysis'],
          databaseUrl: config.AGENT_ANALYSIS_DATABASE_URL,
          schema: AGENT_ANALYSIS_SCHEMA,
        }),
        AgentsModule,
      ],
    };
  }
}
