import { createService, runService } from '@desk/platform';
import { AppModule } from './app.module';
import { loadRiskConfig } from './config';

runService(async () => {
  const config = loadRiskConfig();
  await createService(AppModule.forRoot(config), {
    service: 'risk',
    host: config.SERVICE_HOST,
    port: config.RISK_PORT,
    metrics: { host: config.SERVICE_HOST, port: config.RISK_METRICS_PORT },
  });
});
