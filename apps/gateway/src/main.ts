import { createService, runService } from '@desk/platform';
import { AppModule } from './app.module';
import { gatewayAppOptions } from './app-options';
import { loadGatewayConfig } from './config';

runService(async () => {
  const config = loadGatewayConfig();
  await createService(AppModule.forRoot(config), {
    ...gatewayAppOptions(config),
    host: config.GATEWAY_HOST,
    port: config.GATEWAY_PORT,
    metrics: { host: config.GATEWAY_METRICS_HOST, port: config.GATEWAY_METRICS_PORT },
  });
});
