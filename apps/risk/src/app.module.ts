import { DynamicModule, Module } from '@nestjs/common';
import { ServiceName } from '@desk/contracts';
import { PlatformModule, SERVICE_DATABASE_ROLES } from '@desk/platform';
import { RISK_CONFIG, type RiskConfig } from './config';
import { ControlModule } from './modules/control/control.module';
import { IntentsModule } from './modules/intents/intents.module';
import { MonitorModule } from './modules/monitor/monitor.module';
import { PositionsModule } from './modules/positions/positions.module';
import { StateModule } from './modules/state/state.module';
import { RISK_SCHEMA } from './schema';

@Module({})
export class AppModule {
  static forRoot(config: RiskConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({
          service: ServiceName.Risk,
          config,
          configToken: RISK_CONFIG,
          databaseRole: SERVICE_DATABASE_ROLES['risk'],
          databaseUrl: config.RISK_DATABASE_URL,
          schema: RISK_SCHEMA,
        }),
        StateModule,
        IntentsModule,
        PositionsModule,
        ControlModule,
        MonitorModule,
      ],
    };
  }
}
