import { DynamicModule, Global, Module } from '@nestjs/common';
import { PLATFORM_CONFIG, SERVICE_NAME } from './tokens';
import type { PlatformConfig } from './load-config';

/** Makes the app's validated config injectable: `@Inject(PLATFORM_CONFIG)` for the shared part. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot<C extends PlatformConfig>(
    service: string,
    config: C,
    token: symbol | string,
  ): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: PLATFORM_CONFIG, useValue: config },
        { provide: SERVICE_NAME, useValue: service },
        { provide: token, useValue: config },
      ],
      exports: [PLATFORM_CONFIG, SERVICE_NAME, token],
    };
  }
}
