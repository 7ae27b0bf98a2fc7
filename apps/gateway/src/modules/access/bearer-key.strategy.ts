import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Authenticator } from 'passport';
import { Strategy } from 'passport-custom';
import type { AuthenticatedRequest } from '../../http/request-context';
import { AuthenticationService, type Authentication } from './authentication.service';

export const BEARER_STRATEGY = 'bearer';

type PassportInstance = InstanceType<typeof Authenticator>;
const AUTHENTICATORS = new WeakMap<object, PassportInstance>();

/** What the strategy hands the guard: the key's holder, or why there is none. */
export type BearerOutcome = Extract<Authentication, { ok: true }>;
export type BearerFailure = Extract<Authentication, { ok: false }>;

/**
 * The gateway's bearer strategy for @nestjs/passport: `Authorization: Bearer <key>`, validated by the key
 * service (derived id lookup, constant-time digest comparison, revocation, expiry, operator status).
 *
 * Built on passport-custom rather than passport-http-bearer on purpose (docs/adr/0006): that strategy also
 * takes a token from the body or the query string (`access_token`) and answers with its own challenge,
 * where the desk accepts a key only in the Authorization header and keeps its own error bodies.
 */
@Injectable()
export class BearerKeyStrategy extends PassportStrategy(Strategy, BEARER_STRATEGY) {
  constructor(@Inject(AuthenticationService) private readonly authentication: AuthenticationService) {
    super();
  }

  /** This app's own Authenticator (see BearerAuthGuard), made on first use: during super(). */
  getPassportInstance(): PassportInstance {
    let authenticator = AUTHENTICATORS.get(this);
    if (!authenticator) {
      authenticator = new Authenticator();
      AUTHENTICATORS.set(this, authenticator);
    }
    return authenticator;
  }

  /** A holder (passport's "user"), or `false` with the failure as passport's info. */
  async validate(request: AuthenticatedRequest): Promise<BearerOutcome | [false, BearerFailure]> {
    const outcome = await this.authentication.authenticate(request.headers.authorization);
    return outcome.ok ? outcome : [false, outcome];
  }
}

/**
 * Runs the bearer strategy through passport without answering for itself: the access guard reads the
 * outcome and owns the 401 (same body as ever), the metrics and the audit. Not @nestjs/passport's
 * AuthGuard: that one authenticates through the process-wide passport instance, where the strategy last
 * registered by any app in the process wins (two gateways in one test process, or the CLI beside an app,
 * would check keys against each other's databases). Each app's strategy has its own Authenticator.
 */
@Injectable()
export class BearerAuthGuard {
  constructor(@Inject(BearerKeyStrategy) private readonly strategy: BearerKeyStrategy) {}

  authenticate(context: ExecutionContext): Promise<Authentication> {
    const http = context.switchToHttp();
    const request = http.getRequest<unknown>();
    const response = http.getResponse<unknown>();
    return new Promise((resolve, reject) => {
      const middleware = this.strategy
        .getPassportInstance()
        .authenticate(
          BEARER_STRATEGY,
          { session: false },
          (error: unknown, user: BearerOutcome | false, failure: BearerFailure | undefined) => {
            if (error)
              reject(error instanceof Error ? error : new Error('bearer strategy failed', { cause: error }));
            else resolve(user || (failure?.ok === false ? failure : { ok: false, reason: 'missing' }));
          },
        ) as (req: unknown, res: unknown, next: (error?: unknown) => void) => void;
      middleware(request, response, (error?: unknown) =>
        reject(error instanceof Error ? error : new Error('passport ended without an outcome')),
      );
    });
  }
}
