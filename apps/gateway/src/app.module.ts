import { DynamicModule, Module } from '@nestjs/common';
import { ServiceName } from '@desk/contracts';
import { PlatformModule, SERVICE_DATABASE_ROLES, type Secrets } from '@desk/platform';
import { GATEWAY_CONFIG, type GatewayConfig } from './config';
import { AuditTrailModule } from './modules/audit-trail/audit-trail.module';
import { AccessModule } from './modules/access/access.module';
import { ApprovalsModule } from './modules/approvals/approvals.module';
import { BalancesModule } from './modules/balances/balances.module';
import { KeysModule } from './modules/keys/keys.module';
import { OperatorsModule } from './modules/operators/operators.module';
import { OrderCancelsModule } from './modules/order-cancels/order-cancels.module';
import { OrderProjectionModule } from './modules/order-projection/order-projection.module';
import { OrdersModule } from './modules/orders/orders.module';
import { PositionsModule } from './modules/positions/positions.module';
import { ReconciliationsModule } from './modules/reconciliations/reconciliations.module';
import { RiskControlModule } from './modules/risk-control/risk-control.module';
import { SetupModule } from './modules/setup/setup.module';
import { SignalsModule } from './modules/signals/signals.module';
import { GATEWAY_SCHEMA } from './schema';

@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig, secrets?: Secrets): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({
          secrets,
          service: ServiceName.Gateway,
          config,
          configToken: GATEWAY_CONFIG,
          databaseRole: SERVICE_DATABASE_ROLES['gateway'],
          databaseUrl: config.GATEWAY_DATABASE_URL,
          schema: GATEWAY_SCHEMA,
        }),
        AccessModule,
        ApprovalsModule,
        RiskControlModule,
        OperatorsModule,
        KeysModule,
        SetupModule,
        OrderProjectionModule,
        OrdersModule,
        OrderCancelsModule,
        PositionsModule,
        BalancesModule,
        ReconciliationsModule,
        SignalsModule,
        AuditTrailModule,
      ],
    };
  }
}
