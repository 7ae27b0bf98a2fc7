import { createService, resolveSecrets, runService } from '@desk/platform';
import { AppModule } from './app.module';
import { loadExecutionConfig } from './config';

runService(async () => {
  // Secrets first (Vault, or the environment): the config is validated with them merged in.
  const { env, secrets } = await resolveSecrets('execution', process.env);
  const config = loadExecutionConfig(env);
  await createService(AppModule.forRoot(config, secrets), {
    service: 'execution',
    host: config.SERVICE_HOST,
    port: config.EXECUTION_PORT,
    metrics: { host: config.SERVICE_HOST, port: config.EXECUTION_METRICS_PORT },
  });
});
