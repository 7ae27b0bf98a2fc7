import { createService, resolveSecrets, runService } from '@desk/platform';
import { AppModule } from './app.module';
import { gatewayAppOptions } from './app-options';
import { loadGatewayConfig } from './config';

runService(async () => {
  // Secrets first (Vault, or the environment): the config is validated with them merged in.
  const { env, secrets } = await resolveSecrets('gateway', process.env);
  const config = loadGatewayConfig(env);
  await createService(AppModule.forRoot(config, secrets), {
    ...gatewayAppOptions(config),
    host: config.GATEWAY_HOST,
    port: config.GATEWAY_PORT,
    metrics: { host: config.GATEWAY_METRICS_HOST, port: config.GATEWAY_METRICS_PORT },
  });
});
