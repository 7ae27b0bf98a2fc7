import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule, type ThrottlerModuleOptions } from '@nestjs/throttler';
import type { ExecutionContext } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS_CLIENT, REDIS_PREFIX } from '@desk/platform';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';
import type { AuthenticatedRequest } from '../../http/request-context';
import { KeysModule } from '../keys/keys.module';
import { OperatorsModule } from '../operators/operators.module';
import { AccessGuard } from './access.guard';
import { AuthenticationService } from './authentication.service';
import { BearerAuthGuard, BearerKeyStrategy } from './bearer-key.strategy';
import { GatewayThrottlerGuard, throttlePhase } from './gateway-throttler.guard';
import { MeController } from './me.controller';
import { ResilientThrottlerStorage } from './resilient-throttler.storage';
import { TIGHT_THROTTLE } from './require-role.decorator';
import { SecurityAuditService } from './security-audit.service';
import { SecurityMetrics } from './security-metrics';

const isTight = (context: ExecutionContext): boolean =>
  Reflect.getMetadata(TIGHT_THROTTLE, context.getHandler()) === true;

function throttlerOptions(redis: Redis, prefix: string, config: GatewayConfig): ThrottlerModuleOptions {
  const keyOf = (req: Record<string, unknown>) =>
    `key:${(req as unknown as AuthenticatedRequest).actor?.keyId ?? 'none'}`;
  return {
    storage: new ResilientThrottlerStorage(redis),
    generateKey: (_context, tracker, name) => `${prefix}:throttle:${name}:${tracker}`,
    setHeaders: false,
    throttlers: [
      {
        name: 'ip',
        ttl: config.THROTTLE_TTL_MS,
        limit: config.THROTTLE_IP_LIMIT,
        getTracker: (req) => `ip:${String((req as unknown as AuthenticatedRequest).ip)}`,
        skipIf: (context) => throttlePhase(context) !== 'ip',
      },
      {
        name: 'key',
        ttl: config.THROTTLE_TTL_MS,
        limit: config.THROTTLE_LIMIT,
        getTracker: keyOf,
        skipIf: (context) => throttlePhase(context) !== 'key',
      },
      {
        name: 'orders',
        ttl: config.THROTTLE_TTL_MS,
        limit: config.THROTTLE_ORDER_LIMIT,
        getTracker: keyOf,
        skipIf: (context) => throttlePhase(context) !== 'key' || !isTight(context),
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
