import { createService, runService } from '@desk/platform';
import { AppModule } from './app.module';
import { loadExecutionConfig } from './config';

runService(async () => {
  const config = loadExecutionConfig();
  await createService(AppModule.forRoot(config), {
    service: 'execution',
    host: config.SERVICE_HOST,
    port: config.EXECUTION_PORT,
    metrics: { host: config.SERVICE_HOST, port: config.EXECUTION_METRICS_PORT },
  });
});
