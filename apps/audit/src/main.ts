import { createService, runService } from '@desk/platform';
import { AppModule } from './app.module';
import { loadAuditConfig } from './config';

runService(async () => {
  const config = loadAuditConfig();
  await createService(AppModule.forRoot(config), {
    service: 'audit',
    host: config.SERVICE_HOST,
    port: config.AUDIT_PORT,
    metrics: { host: config.SERVICE_HOST, port: config.AUDIT_METRICS_PORT },
  });
});
