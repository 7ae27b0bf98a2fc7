import { DynamicModule, Module } from '@nestjs/common';
import { ServiceName } from '@desk/contracts';
import { PlatformModule } from '@desk/platform';
import { GATEWAY_CONFIG, type GatewayConfig } from './config';
import { GATEWAY_SCHEMA } from './schema';

@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({ service: ServiceName.Gateway, config, configToken: GATEWAY_CONFIG, schema: GATEWAY_SCHEMA }),
      ],
    };
  }
}
