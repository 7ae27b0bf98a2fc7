import { createService, runService } from '@desk/platform';
import { AppModule } from './app.module';
import { loadAgentAnalysisConfig } from './config';

runService(async () => {
  const config = loadAgentAnalysisConfig();
  await createService(AppModule.forRoot(config), {
    service: 'agent-analysis',
    host: config.SERVICE_HOST,
    port: config.AGENT_ANALYSIS_PORT,
    metrics: { host: config.SERVICE_HOST, port: config.AGENT_ANALYSIS_METRICS_PORT },
  });
});
