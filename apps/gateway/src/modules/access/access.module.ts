import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule, type ThrottlerModuleOptions } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import { REDIS_CLIENT, REDIS_PREFIX } from '@desk/platform';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';
import type { AuthenticatedRequest } from '../../http/request-context';
import { KeysModule } from '../keys/keys.module';
import { OperatorsModule } from '../operators/operators.module';
import { AccessGuard } from './access.guard';
import { AuthenticationService } from './authentication.service';
import { BearerAuthGuard, BearerKeyStrategy } from './bearer-key.strategy';
import { GatewayThrottlerGuard } from './gateway-throttler.guard';
import { MeController } from './me.controller';
import { ResilientThrottlerStorage } from './resilient-throttler.storage';
import { SecurityAuditService } from './security-audit.service';
import { SecurityMetrics } from './security-metrics';

function throttlerOptions(redis: Redis, prefix: string, config: GatewayConfig): ThrottlerModuleOptions {
  const keyOf = (req: Record<string, unknown>) =>
    `key:${(req as unknown as AuthenticatedRequest).actor?.keyId ?? 'none'}`;
  return {
    storage: new ResilientThrottlerStorage(redis),
    generateKey: (_context, tracker, name) => `${prefix}:throttle:${name}:${tracker}`,
    setHeaders: false,
    // Each throttler's phase (before or after authentication) is GatewayThrottlerGuard's PHASES.
    throttlers: [
      {
        name: 'ip',
        ttl: config.THROTTLE_TTL_MS,
        limit: config.THROTTLE_IP_LIMIT,
        getTracker: (req) => `ip:${String((req as unknown as AuthenticatedRequest).ip)}`,
      },
      {
        name: 'key',
        ttl: config.THROTTLE_TTL_MS,
        limit: config.THROTTLE_LIMIT,
        getTracker: keyOf,
      },
      {
        name: 'orders',
        ttl: config.THROTTLE_TTL_MS,
        limit: config.THROTTLE_ORDER_LIMIT,
        getTracker: keyOf,
      },
    ],
  };
}

@Module({
  imports: [
    KeysModule,
    OperatorsModule,
    ThrottlerModule.forRootAsync({
      inject: [REDIS_CLIENT, REDIS_PREFIX, GATEWAY_CONFIG],
      useFactory: throttlerOptions,
    }),
  ],
  controllers: [MeController],
  providers: [
    AuthenticationService,
    BearerKeyStrategy,
    BearerAuthGuard,
    SecurityMetrics,
    SecurityAuditService,
    GatewayThrottlerGuard,
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
})
export class AccessModule {}
