import { createService, resolveSecrets, runService } from '@desk/platform';
import { AppModule } from './app.module';
import { loadAgentAnalysisConfig } from './config';

runService(async () => {
  // Secrets first (Vault, or the environment): the config is validated with them merged in.
  const { env, secrets } = await resolveSecrets('agent-analysis', process.env);
  const config = loadAgentAnalysisConfig(env);
  await createService(AppModule.forRoot(config, secrets), {
    service: 'agent-analysis',
    host: config.SERVICE_HOST,
    port: config.AGENT_ANALYSIS_PORT,
    metrics: { host: config.SERVICE_HOST, port: config.AGENT_ANALYSIS_METRICS_PORT },
  });
});
