import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuditAction } from '@desk/contracts';
import { AppError, ErrorCode, IS_PUBLIC } from '@desk/platform';
import type { AuthenticatedRequest } from '../../http/request-context';
import { BearerAuthGuard } from './bearer-key.strategy';
import { GatewayThrottlerGuard } from './gateway-throttler.guard';
import { REQUIRED_ROLE } from './require-role.decorator';
import { grants, type Role } from './role';
import { SecurityAuditService } from './security-audit.service';
import { SecurityMetrics } from './security-metrics';

type Declaration = { isPublic: boolean; required: Role | undefined };

/** Query parameters that look like credentials: refused, never read, never logged. */
const CREDENTIAL_PARAMS = /^(api[_-]?key|key|token|access[_-]?token|auth|authorization|bearer)$/i;

/**
 * The gateway's one door, in order: refuse credentials in the query string; throttle per client IP;
 * authenticate the bearer key (@nestjs/passport, BearerKeyStrategy); check the endpoint's declared role; throttle per key. Every refusal is
 * counted and audited with the key id (never the key). An endpoint with no declared role is refused.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(BearerAuthGuard) private readonly bearer: BearerAuthGuard,
    @Inject(GatewayThrottlerGuard) private readonly throttler: GatewayThrottlerGuard,
    @Inject(SecurityAuditService) private readonly securityAudit: SecurityAuditService,
    @Inject(SecurityMetrics) private readonly metrics: SecurityMetrics,
  ) {}

  /** What an endpoint declares (@Public, @RequireRole), read once per endpoint: it is fixed at boot. */
  private readonly declared = new WeakMap<object, Map<object, Declaration>>();

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const { isPublic, required } = this.declarationOf(context);
    if (isPublic) return true;
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
      this.securityAudit.record(
        request,
        AuditAction.AuthFailed,
        { reason: auth.reason, ...(auth.keyId ? { keyId: auth.keyId } : {}) },
        { keyId: auth.keyId },
      );
      throw new AppError(ErrorCode.Unauthorized, 'missing or invalid API key');
    }
    request.actor = auth.actor;
    request.operatorName = auth.operatorName;
    request.roles = auth.roles;
    request.keyExpiresAt = auth.expiresAt;

    if (required === undefined || !grants(auth.roles, required)) {
      this.metrics.accessDenied.inc({ role: required ?? 'undeclared' });
      this.securityAudit.record(request, AuditAction.AccessDenied, {
        required: required ?? 'undeclared',
        held: auth.roles,
      });
      throw new AppError(ErrorCode.Forbidden, 'this key does not have the role this action needs');
    }

    await this.throttler.check(context, 'key');
    return true;
  }

  private declarationOf(context: ExecutionContext): Declaration {
    const controller = context.getClass();
    const handler = context.getHandler();
    let byHandler = this.declared.get(controller);
    if (!byHandler) this.declared.set(controller, (byHandler = new Map<object, Declaration>()));
    let declared = byHandler.get(handler);
    if (!declared) {
      const targets = [handler, controller];
      declared = {
        isPublic: this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, targets) === true,
        required: this.reflector.getAllAndOverride<Role | undefined>(REQUIRED_ROLE, targets),
      };
      byHandler.set(handler, declared);
    }
    return declared;
  }
}
