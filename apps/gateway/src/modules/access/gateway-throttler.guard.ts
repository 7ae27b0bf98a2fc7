import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import { AuditAction } from '@desk/contracts';
import { AppError, ErrorCode } from '@desk/platform';
import type { FastifyReply } from 'fastify';
import type { AuthenticatedRequest } from '../../http/request-context';
import { SecurityAuditService } from './security-audit.service';
import { SecurityMetrics } from './security-metrics';

export type ThrottlePhase = 'ip' | 'key';
const PHASE = Symbol('throttlePhase');

export function throttlePhase(context: ExecutionContext): ThrottlePhase | undefined {
  return context.switchToHttp().getRequest<{ [PHASE]?: ThrottlePhase }>()[PHASE];
}

/**
 * @nestjs/throttler with Redis storage (atomic counters shared by every gateway instance), run in two
 * phases by the access guard: per client IP before authentication (so floods of bad keys are limited
 * too), per key after it. A refusal is a 429 with Retry-After, counted and audited (aggregated per source).
 */
@Injectable()
export class GatewayThrottlerGuard extends ThrottlerGuard {
  @Inject(SecurityAuditService) private readonly securityAudit!: SecurityAuditService;
  @Inject(SecurityMetrics) private readonly metrics!: SecurityMetrics;

  async check(context: ExecutionContext, phase: ThrottlePhase): Promise<void> {
    const request = context.switchToHttp().getRequest<{ [PHASE]?: ThrottlePhase }>();
    request[PHASE] = phase;
    try {
      await super.canActivate(context);
    } finally {
      delete request[PHASE];
    }
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
