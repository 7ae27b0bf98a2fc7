import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Actor } from '@desk/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '../modules/access/role';

export interface AuthenticatedRequest extends FastifyRequest {
  actor?: Actor & { keyId: string };
  /** The authenticated key holder's name (set with `actor`). */
  operatorName?: string;
  roles?: Role[];
  keyExpiresAt?: Date | null;
}

/** The authenticated caller, set by the API key guard. */
export const CurrentActor = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Actor & { keyId: string } => {
    const actor = ctx.switchToHttp().getRequest<AuthenticatedRequest>().actor;
    if (!actor) throw new Error('CurrentActor used on a route without authentication');
    return actor;
  },
);

/** The request id (X-Request-Id), used as the correlation id of everything the request causes. */
export const RequestId = createParamDecorator((_: unknown, ctx: ExecutionContext): string =>
  String(ctx.switchToHttp().getRequest<FastifyRequest>().id),
);

/** Sends an idempotent outcome: its status, and whether it is a replay of the stored response. */
export function sendIdempotent(
  reply: FastifyReply,
  outcome: { status: number; body: unknown; replayed: boolean },
): unknown {
  void reply.status(outcome.status).header('idempotent-replayed', String(outcome.replayed));
  return outcome.body;
}
