import { DynamicModule, Module } from '@nestjs/common';
import { ServiceName } from '@desk/contracts';
import { PlatformModule, SERVICE_DATABASE_ROLES, type Secrets } from '@desk/platform';
import { EXECUTION_CONFIG, type ExecutionConfig } from './config';
import { OrdersModule } from './modules/orders/orders.module';
import { ReconciliationModule } from './modules/reconciliation/reconciliation.module';
import { EXECUTION_SCHEMA } from './schema';

@Module({})
export class AppModule {
  static forRoot(config: ExecutionConfig, secrets?: Secrets): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({
          secrets,
          service: ServiceName.Execution,
          config,
          configToken: EXECUTION_CONFIG,
          databaseRole: SERVICE_DATABASE_ROLES['execution'],
          databaseUrl: config.EXECUTION_DATABASE_URL,
          schema: EXECUTION_SCHEMA,
        }),
        OrdersModule,
        ReconciliationModule,
      ],
    };
  }
}
