import { randomUUID } from 'node:crypto';
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type FieldProblem } from './app-error';
import { dependencyFailureOf } from './dependency-failure';
import { ErrorCode, httpStatusOf } from './error-code';
import { reportError } from '../observability/error-reporting';

/** Seconds a client is told to wait after a 503 for a dependency that is down. */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 5;

export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    requestId: string;
    details?: readonly FieldProblem[];
    errorId?: string;
  };
}

/**
 * One error shape for every response: `{ error: { code, message, requestId, details? } }`. An unexpected
 * error becomes a 500 whose body carries only an errorId; the detail goes to the log.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const request = ctx.getRequest<FastifyRequest>();
    const { status, body } = toErrorBody(exception, String(request.id), this.logger);
    if (body.error.code === ErrorCode.DependencyUnavailable) {
      void reply.header('retry-after', String(DEPENDENCY_RETRY_AFTER_SECONDS));
    }
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
  }
}

export function toErrorBody(
  exception: unknown,
  requestId: string,
  logger: Pick<Logger, 'error'>,
): { status: number; body: ErrorBody } {
  if (exception instanceof AppError) {
    return {
      status: httpStatusOf(exception.code),
      body: {
        error: { code: exception.code, message: exception.message, requestId, details: exception.details },
      },
    };
  }
  const known = fromFrameworkError(exception);
  if (known) {
    return { status: httpStatusOf(known.code), body: { error: { ...known, requestId } } };
  }
  const errorId = randomUUID();
  const dependency = dependencyFailureOf(exception);
  if (dependency) {
    // Not a bug: PostgreSQL or Redis is down, or execution has published no market catalog. The client may
    // retry; the log says which and why.
    logger.error({ err: exception, errorId, requestId, dependency }, 'dependency unavailable');
    return {
      status: httpStatusOf(ErrorCode.DependencyUnavailable),
      body: {
        error: {
          code: ErrorCode.DependencyUnavailable,
          message:
            dependency === 'market-catalog'
              ? 'temporarily unavailable: the venue market catalog is not loaded; retry later'
              : 'temporarily unavailable: a service this request needs is down; retry later',
          requestId,
          errorId,
        },
      },
    };
  }
  logger.error({ err: exception, errorId, requestId }, 'unhandled error');
  reportError(exception, { origin: 'http', errorId, requestId });
  return {
    status: 500,
    body: { error: { code: ErrorCode.Internal, message: 'internal error', requestId, errorId } },
  };
}

/** Nest HTTP exceptions and Fastify's own 4xx errors (bad JSON, body too large, wrong content type). */
function fromFrameworkError(exception: unknown): { code: ErrorCode; message: string } | undefined {
  let status: number | undefined;
  let message = '';
  if (exception instanceof HttpException) {
    status = exception.getStatus();
    message = exception.message;
  } else if (typeof exception === 'object' && exception !== null && 'statusCode' in exception) {
    const s = exception.statusCode;
    if (typeof s === 'number') status = s;
    const fstCode = (exception as { code?: unknown }).code;
    message =
      exception instanceof SyntaxError
        ? 'request body is not valid JSON'
        : typeof fstCode === 'string'
          ? describeFastifyCode(fstCode)
          : 'bad request';
  }
  if (status === undefined || status >= 500 || status < 400) return undefined;
  switch (status) {
    case 401:
      return { code: ErrorCode.Unauthorized, message: 'authentication required' };
    case 403:
      return { code: ErrorCode.Forbidden, message: 'forbidden' };
    case 404:
      return { code: ErrorCode.NotFound, message: 'not found' };
    case 405:
      return { code: ErrorCode.MethodNotAllowed, message: 'method not allowed' };
    case 413:
      return { code: ErrorCode.PayloadTooLarge, message: 'request body too large' };
    case 415:
      return { code: ErrorCode.UnsupportedMediaType, message: 'content-type must be application/json' };
    case 429:
      return { code: ErrorCode.RateLimited, message: 'too many requests' };
    default:
      return { code: ErrorCode.MalformedBody, message: message || 'bad request' };
  }
}

function describeFastifyCode(code: string): string {
  switch (code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'request body is not valid JSON';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'request body too large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'content-type must be application/json';
    default:
      return 'bad request';
  }
}
