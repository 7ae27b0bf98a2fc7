import { DynamicModule, Module } from '@nestjs/common';
import { ServiceName } from '@desk/contracts';
import { PlatformModule } from '@desk/platform';
import { RISK_CONFIG, type RiskConfig } from './config';
import { IntentsModule } from './modules/intents/intents.module';
import { PositionsModule } from './modules/positions/positions.module';
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
          schema: RISK_SCHEMA,
        }),
        IntentsModule,
        PositionsModule,
      ],
    };
  }
}
