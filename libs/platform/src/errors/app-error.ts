import { ErrorCode } from './error-code';

export interface FieldProblem {
  /** Dotted path of the offending field, e.g. "quantity" or "order.price". */
  field: string;
  reason: string;
}

/** A domain error with a stable code; the exception filter turns it into the one error shape. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: readonly FieldProblem[],
  ) {
    super(message);
    this.name = 'AppError';
  }

  static validation(details: readonly FieldProblem[]): AppError {
    const summary = details.map((d) => `${d.field}: ${d.reason}`).join('; ');
    return new AppError(ErrorCode.ValidationFailed, `invalid request: ${summary}`, details);
  }

  static notFound(what = 'resource'): AppError {
    return new AppError(ErrorCode.NotFound, `${what} not found`);
  }
}
