/** Every error a client can see. Mapped to HTTP once, in httpStatusOf (exhaustive: a new code must be mapped). */
export enum ErrorCode {
  ValidationFailed = 'VALIDATION_FAILED',
  MalformedBody = 'MALFORMED_BODY',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  Unauthorized = 'UNAUTHORIZED',
  Forbidden = 'FORBIDDEN',
  NotFound = 'NOT_FOUND',
  MethodNotAllowed = 'METHOD_NOT_ALLOWED',
  IdempotencyKeyMissing = 'IDEMPOTENCY_KEY_MISSING',
  IdempotencyKeyReused = 'IDEMPOTENCY_KEY_REUSED',
  IdempotencyKeyInFlight = 'IDEMPOTENCY_KEY_IN_FLIGHT',
  CredentialsInQuery = 'CREDENTIALS_IN_QUERY',
  Conflict = 'CONFLICT',
  /** The order already ended in a way a cancel cannot undo (filled, rejected by risk or by the venue). */
  OrderNotCancellable = 'ORDER_NOT_CANCELLABLE',
  UriTooLong = 'URI_TOO_LONG',
  RateLimited = 'RATE_LIMITED',
  NotReady = 'NOT_READY',
  /** PostgreSQL or Redis is down or unreachable: retry later (Retry-After). Nothing was accepted. */
  DependencyUnavailable = 'DEPENDENCY_UNAVAILABLE',
  Internal = 'INTERNAL',
}

export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.ValidationFailed:
    case ErrorCode.MalformedBody:
    case ErrorCode.IdempotencyKeyMissing:
    case ErrorCode.CredentialsInQuery:
      return 400;
    case ErrorCode.Unauthorized:
      return 401;
    case ErrorCode.Forbidden:
      return 403;
    case ErrorCode.NotFound:
      return 404;
    case ErrorCode.MethodNotAllowed:
      return 405;
    case ErrorCode.IdempotencyKeyInFlight:
    case ErrorCode.Conflict:
    case ErrorCode.OrderNotCancellable:
      return 409;
    case ErrorCode.PayloadTooLarge:
      return 413;
    case ErrorCode.UriTooLong:
      return 414;
    case ErrorCode.UnsupportedMediaType:
      return 415;
    case ErrorCode.IdempotencyKeyReused:
      return 422;
    case ErrorCode.RateLimited:
      return 429;
    case ErrorCode.NotReady:
    case ErrorCode.DependencyUnavailable:
      return 503;
    case ErrorCode.Internal:
      return 500;
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
}
