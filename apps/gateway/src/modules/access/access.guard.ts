import { CanActivate, ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuditAction, serviceActor, ServiceName } from '@desk/contracts';
import { AppError, AuditPublisher, ErrorCode, IS_PUBLIC } from '@desk/platform';
import type { AuthenticatedRequest } from '../../http/request-context';
import { BearerAuthGuard } from './bearer-key.strategy';
import { GatewayThrottlerGuard, routeOf } from './gateway-throttler.guard';
import { REQUIRED_ROLE } from './require-role.decorator';
import { grants, type Role } from './role';
import { SecurityMetrics } from './security-metrics';

/** Query parameters that look like credentials: refused, never read, never logged. */
const CREDENTIAL_PARAMS = /^(api[_-]?key|key|token|access[_-]?token|auth|authorization|bearer)$/i;

/**
 * The gateway's one door, in order: refuse credentials in the query string; throttle per client IP;
 * authenticate the bearer key (@nestjs/passport, BearerKeyStrategy); check the endpoint's declared role; throttle per key. Every refusal is
 * counted and audited with the key id (never the key). An endpoint with no declared role is refused.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  private readonly log = new Logger('Access');

  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(BearerAuthGuard) private readonly bearer: BearerAuthGuard,
    @Inject(GatewayThrottlerGuard) private readonly throttler: GatewayThrottlerGuard,
    @Inject(AuditPublisher) private readonly audit: AuditPublisher,
    @Inject(SecurityMetrics) private readonly metrics: SecurityMetrics,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();

    const query = request.query as Record<string, unknown> | undefined;
    if (query && Object.keys(query).some((name) => CREDENTIAL_PARAMS.test(name))) {
      throw new AppError(
        ErrorCode.CredentialsInQuery,
        'credentials are accepted only in the Authorization header',
      );
    }

    await this.throttler.check(context, 'ip');

    const auth = await this.bearer.authenticate(context);
    if (!auth.ok) {
      this.metrics.authFailures.inc({ reason: auth.reason });
      this.record(request, AuditAction.AuthFailed, {
        reason: auth.reason,
        ...(auth.keyId ? { keyId: auth.keyId } : {}),
      });
      throw new AppError(ErrorCode.Unauthorized, 'missing or invalid API key');
    }
    request.actor = auth.actor;
    request.roles = auth.roles;
    request.keyExpiresAt = auth.expiresAt;

    const required = this.reflector.getAllAndOverride<Role | undefined>(REQUIRED_ROLE, targets);
    if (required === undefined || !grants(auth.roles, required)) {
      this.metrics.accessDenied.inc({ role: required ?? 'undeclared' });
      this.record(request, AuditAction.AccessDenied, {
        required: required ?? 'undeclared',
        held: auth.roles,
      });
      throw new AppError(ErrorCode.Forbidden, 'this key does not have the role this action needs');
    }

    await this.throttler.check(context, 'key');
    return true;
  }

  private record(request: AuthenticatedRequest, action: AuditAction, payload: Record<string, unknown>): void {
    this.audit
      .record({
        actor: request.actor ?? serviceActor(ServiceName.Gateway),
        action,
        subject: { type: 'request', id: String(request.id) },
        payload: { ...payload, method: request.method, path: routeOf(request), ip: request.ip },
        correlationId: String(request.id),
      })
      .catch((error: unknown) => this.log.warn({ err: error }, `could not audit ${action}`));
  }
}
