import { createHash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError, ErrorCode, IS_PUBLIC } from '@desk/platform';
import type { AuthenticatedRequest } from '../../http/request-context';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';

/** Until the operator and key model lands, every caller with the environment key is this operator. */
export const BOOTSTRAP_OPERATOR_ID = 'bootstrap-operator';
export const ENV_KEY_ID = 'env';

/**
 * `Authorization: Bearer <key>` against GATEWAY_API_KEY. Keys are compared as SHA-256 digests with
 * timingSafeEqual, so the comparison takes the same time whatever the key's length or content. Every
 * failure gets the same 401 body.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.expected = digest(config.GATEWAY_API_KEY);
  }

  canActivate(context: ExecutionContext): boolean {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const presented = bearerToken(request.headers.authorization);
    if (presented === undefined || !timingSafeEqual(digest(presented), this.expected)) {
      throw new AppError(ErrorCode.Unauthorized, 'missing or invalid API key');
    }
    request.actor = { type: 'operator', id: BOOTSTRAP_OPERATOR_ID, keyId: ENV_KEY_ID };
    return true;
  }
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

function bearerToken(header: string | undefined): string | undefined {
  if (!header || header.length > 1024) return undefined;
  const match = /^Bearer ([\x21-\x7e]+)$/.exec(header);
  return match?.[1];
}
