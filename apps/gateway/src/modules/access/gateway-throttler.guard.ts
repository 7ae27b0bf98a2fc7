import { ExecutionContext, Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail, type ThrottlerOptions } from '@nestjs/throttler';
import { AuditAction } from '@desk/contracts';
import { AppError, ErrorCode } from '@desk/platform';
import type { FastifyReply } from 'fastify';
import type { AuthenticatedRequest } from '../../http/request-context';
import { TIGHT_THROTTLE } from './require-role.decorator';
import { SecurityAuditService } from './security-audit.service';
import { SecurityMetrics } from './security-metrics';

export type ThrottlePhase = 'ip' | 'key';

/**
 * Which phase counts each of the module's throttlers (access.module.ts): the client's IP before
 * authentication, its key after it, and order submissions (endpoints marked @OrderSubmissionLimit) by key.
 */
const PHASES: Record<string, { phase: ThrottlePhase; tightOnly?: true }> = {
  ip: { phase: 'ip' },
  key: { phase: 'key' },
  orders: { phase: 'key', tightOnly: true },
};

/** One throttler as it applies to one endpoint in one phase: the library's request without its context. */
type Step = {
  throttler: ThrottlerOptions;
  limit: number;
  ttl: number;
  blockDuration: number;
  getTracker: NonNullable<ThrottlerOptions['getTracker']>;
  generateKey: NonNullable<ThrottlerOptions['generateKey']>;
};

/**
 * @nestjs/throttler with Redis storage (atomic counters shared by every gateway instance, taken in leases),
 * run in two phases by the access guard: per client IP before authentication (so floods of bad keys are
 * limited too), per key after it. A refusal is a 429 with Retry-After, counted and audited (aggregated per
 * source).
 *
 * Each request goes through the library's `handleRequest` (tracker, key, storage, refusal) for every
 * throttler of its phase; which throttlers those are, and their limits, are worked out once per endpoint
 * (docs/adr/0024, cut 32) instead of the library's canActivate reading them from route metadata on every
 * request. The limits are the module's (configuration, fixed at boot); endpoints carry no @Throttle or
 * @SkipThrottle (endpoint-roles.spec checks it).
 */
@Injectable()
export class GatewayThrottlerGuard extends ThrottlerGuard implements OnModuleInit {
  @Inject(SecurityAuditService) private readonly securityAudit!: SecurityAuditService;
  @Inject(SecurityMetrics) private readonly metrics!: SecurityMetrics;
  private readonly plans = new WeakMap<object, Record<ThrottlePhase, Step[]>>();

  override async onModuleInit(): Promise<void> {
    await super.onModuleInit();
    for (const throttler of this.throttlers) {
      if (!throttler.name || !(throttler.name in PHASES))
        throw new Error(`throttler "${String(throttler.name)}" has no phase in GatewayThrottlerGuard`);
      for (const value of [throttler.limit, throttler.ttl, throttler.blockDuration ?? 0]) {
        if (typeof value !== 'number')
          throw new Error(`throttler "${throttler.name}": limits must be numbers fixed at boot`);
      }
    }
  }

  /** Not a guard of its own: the access guard runs it in its two phases (`check`). */
  override canActivate(): Promise<boolean> {
    return Promise.reject(new Error('GatewayThrottlerGuard runs only through the access guard'));
  }

  async check(context: ExecutionContext, phase: ThrottlePhase): Promise<void> {
    for (const step of this.plan(context)[phase]) await this.handleRequest({ context, ...step });
  }

  private plan(context: ExecutionContext): Record<ThrottlePhase, Step[]> {
    const handler = context.getHandler();
    let plan = this.plans.get(handler);
    if (!plan) {
      const tight = Reflect.getMetadata(TIGHT_THROTTLE, handler) === true;
      plan = { ip: [], key: [] };
      for (const throttler of this.throttlers) {
        const { phase, tightOnly } = PHASES[throttler.name!]!;
        if (tightOnly && !tight) continue;
        const ttl = throttler.ttl as number;
        plan[phase].push({
          throttler,
          limit: throttler.limit as number,
          ttl,
          blockDuration: (throttler.blockDuration as number | undefined) ?? ttl,
          getTracker: throttler.getTracker ?? this.commonOptions.getTracker!,
          generateKey: throttler.generateKey ?? this.commonOptions.generateKey!,
        });
      }
      this.plans.set(handler, plan);
    }
    return plan;
  }

  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const retryAfter = Math.max(1, Math.ceil(detail.timeToBlockExpire));
    void reply.header('retry-after', String(retryAfter));
    const limit = /:throttle:([a-z]+):/.exec(detail.key)?.[1] ?? 'unknown';
    this.metrics.throttled.inc({ limit });
    this.securityAudit.record(
      request,
      AuditAction.RequestThrottled,
      { limit, max: detail.limit, windowMs: detail.ttl },
      { subject: { type: 'client', id: request.actor?.keyId ?? `ip:${request.ip}` } },
    );
    throw new AppError(ErrorCode.RateLimited, `too many requests; retry after ${retryAfter} s`);
  }
}

/** The route pattern (never the raw URL: ids and query strings stay out of audit records). */
export function routeOf(request: AuthenticatedRequest): string {
  return request.routeOptions?.url ?? 'unknown';
}
