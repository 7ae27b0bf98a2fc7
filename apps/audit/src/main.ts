import { createService, resolveSecrets, runService } from '@desk/platform';
import { AppModule } from './app.module';
import { loadAuditConfig } from './config';

runService(async () => {
  // Secrets first (Vault, or the environment): the config is validated with them merged in.
  const { env, secrets } = await resolveSecrets('audit', process.env);
  const config = loadAuditConfig(env);
  await createService(AppModule.forRoot(config, secrets), {
    service: 'audit',
    host: config.SERVICE_HOST,
    port: config.AUDIT_PORT,
    metrics: { host: config.SERVICE_HOST, port: config.AUDIT_METRICS_PORT },
  });
});
