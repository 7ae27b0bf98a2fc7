import { createService, resolveSecrets, runService } from '@desk/platform';
import { AppModule } from './app.module';
import { loadRiskConfig } from './config';

runService(async () => {
  // Secrets first (Vault, or the environment): the config is validated with them merged in.
  const { env, secrets } = await resolveSecrets('risk', process.env);
  const config = loadRiskConfig(env);
  await createService(AppModule.forRoot(config, secrets), {
    service: 'risk',
    host: config.SERVICE_HOST,
    port: config.RISK_PORT,
    metrics: { host: config.SERVICE_HOST, port: config.RISK_METRICS_PORT },
  });
});
