import { describe, expect, it, jest } from '@jest/globals';
import { AppError } from './app-error';
import { toErrorBody } from './all-exceptions.filter';
import { ErrorCode } from './error-code';

describe('error bodies', () => {
  it('turn an unexpected error into a 500 carrying only an error id, with the detail in the log', () => {
    const logger = { error: jest.fn() };
    const secret = new Error('connection to postgres://desk:hunter2@db failed');
    const { status, body } = toErrorBody(secret, 'req-1', logger);
    expect(status).toBe(500);
    expect(Object.keys(body.error).sort()).toEqual(['code', 'errorId', 'message', 'requestId']);
    expect(body.error).toMatchObject({ code: 'INTERNAL', message: 'internal error', requestId: 'req-1' });
    expect(JSON.stringify(body)).not.toContain('hunter2');
    expect(logger.error).toHaveBeenCalledWith(
      expect.objectContaining({ err: secret, errorId: body.error.errorId }),
      'unhandled error',
    );
  });

  it('keep one shape for domain and framework errors', () => {
    const logger = { error: jest.fn() };
    expect(toErrorBody(AppError.notFound('order'), 'r', logger)).toEqual({
      status: 404,
      body: {
        error: { code: ErrorCode.NotFound, message: 'order not found', requestId: 'r', details: undefined },
      },
    });
    const fastifyJson = Object.assign(new SyntaxError('Unexpected token'), { statusCode: 400 });
    expect(toErrorBody(fastifyJson, 'r', logger).body.error).toMatchObject({
      code: 'MALFORMED_BODY',
      message: 'request body is not valid JSON',
    });
    expect(logger.error).not.toHaveBeenCalled();
  });
});
