import { ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import { AuditAction, serviceActor, ServiceName } from '@desk/contracts';
import { AppError, AuditPublisher, ErrorCode } from '@desk/platform';
import type { FastifyReply } from 'fastify';
import type { AuthenticatedRequest } from '../../http/request-context';
import { SecurityMetrics } from './security-metrics';

export type ThrottlePhase = 'ip' | 'key';
const PHASE = Symbol('throttlePhase');

export function throttlePhase(context: ExecutionContext): ThrottlePhase | undefined {
  return context.switchToHttp().getRequest<{ [PHASE]?: ThrottlePhase }>()[PHASE];
}

/**
 * @nestjs/throttler with Redis storage (atomic counters shared by every gateway instance), run in two
 * phases by the access guard: per client IP before authentication (so floods of bad keys are limited
 * too), per key after it. A refusal is a 429 with Retry-After, counted and audited.
 */
@Injectable()
export class GatewayThrottlerGuard extends ThrottlerGuard {
  private readonly log = new Logger('Throttle');
  @Inject(AuditPublisher) private readonly audit!: AuditPublisher;
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
    this.audit
      .record({
        actor: request.actor ?? serviceActor(ServiceName.Gateway),
        action: AuditAction.RequestThrottled,
        subject: { type: 'client', id: request.actor?.keyId ?? `ip:${request.ip}` },
        payload: {
          limit,
          max: detail.limit,
          windowMs: detail.ttl,
          method: request.method,
          path: routeOf(request),
          ip: request.ip,
        },
        correlationId: String(request.id),
      })
      .catch((error: unknown) => this.log.warn({ err: error }, 'could not audit a throttled request'));
    throw new AppError(ErrorCode.RateLimited, `too many requests; retry after ${retryAfter} s`);
  }
}

/** The route pattern (never the raw URL: ids and query strings stay out of audit records). */
export function routeOf(request: AuthenticatedRequest): string {
  return request.routeOptions?.url ?? 'unknown';
}
