import { DynamicModule, Module } from '@nestjs/common';
import { ServiceName } from '@desk/contracts';
import { PlatformModule, SERVICE_DATABASE_ROLES, type Secrets } from '@desk/platform';
import { RISK_CONFIG, type RiskConfig } from './config';
import { ControlModule } from './modules/control/control.module';
import { IntentsModule } from './modules/intents/intents.module';
import { LeaderDutiesModule } from './modules/leadership/leader-duties.module';
import { LeadershipModule } from './modules/leadership/leadership.module';
import { MonitorModule } from './modules/monitor/monitor.module';
import { PositionsModule } from './modules/positions/positions.module';
import { StateModule } from './modules/state/state.module';
import { RISK_SCHEMA } from './schema';

@Module({})
export class AppModule {
  static forRoot(config: RiskConfig, secrets?: Secrets): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({
          secrets,
          service: ServiceName.Risk,
          config,
          configToken: RISK_CONFIG,
          databaseRole: SERVICE_DATABASE_ROLES['risk'],
          databaseUrl: config.RISK_DATABASE_URL,
          schema: RISK_SCHEMA,
        }),
        LeadershipModule,
        StateModule,
        IntentsModule,
        PositionsModule,
        ControlModule,
        MonitorModule,
        // Last: on election it starts the workers the modules above declared (docs/adr/0015).
        LeaderDutiesModule,
      ],
    };
  }
}
