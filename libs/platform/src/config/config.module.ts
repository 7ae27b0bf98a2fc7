import { DynamicModule, Global, Module } from '@nestjs/common';
import type { Secrets } from '../secrets/secrets';
import { PLATFORM_CONFIG, SECRETS, SERVICE_NAME } from './tokens';
import type { PlatformConfig } from './load-config';

/**
 * Makes the app's validated config injectable: `@Inject(PLATFORM_CONFIG)` for the shared part, and its
 * secrets (`@Inject(SECRETS)`) for the values that rotate while it runs.
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot<C extends PlatformConfig>(
    service: string,
    config: C,
    token: symbol | string,
    secrets?: Secrets,
  ): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: PLATFORM_CONFIG, useValue: config },
        { provide: SERVICE_NAME, useValue: service },
        { provide: token, useValue: config },
        ...(secrets ? [{ provide: SECRETS, useValue: secrets }] : []),
      ],
      exports: [PLATFORM_CONFIG, SERVICE_NAME, token, ...(secrets ? [SECRETS] : [])],
    };
  }
}
