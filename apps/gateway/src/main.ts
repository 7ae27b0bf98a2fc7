import { createService, runService } from '@desk/platform';
import { AppModule } from './app.module';
import { loadGatewayConfig } from './config';

runService(async () => {
  const config = loadGatewayConfig();
  await createService(AppModule.forRoot(config), { service: 'gateway', host: config.SERVICE_HOST, port: config.GATEWAY_PORT });
});
