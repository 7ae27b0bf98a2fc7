import { describe, expect, it, jest } from '@jest/globals';
import { toErrorBody } from './all-exceptions.filter';
import { DependencyUnavailableError, dependencyFailureOf } from './dependency-failure';

/** Errors as the drivers raise them (shapes copied from pg, pg-pool, TypeORM, ioredis and node's net). */
const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
const pgShutdown = Object.assign(new Error('terminating connection due to administrator command'), {
  code: '57P01',
  severity: 'FATAL',
});
const typeormWrapped = Object.assign(new Error('query failed'), {
  name: 'QueryFailedError',
  driverError: pgShutdown,
});
const redisRetries = Object.assign(new Error('Reached the max retries per request limit (which is 3).'), {
  name: 'MaxRetriesPerRequestError',
});
const uniqueViolation = Object.assign(new Error('duplicate key value'), { code: '23505', severity: 'ERROR' });

describe('dependency failures', () => {
  it.each([
    ['a refused connection', refused, 'network'],
    [
      'connect() to several addresses',
      Object.assign(new AggregateError([refused]), { code: 'ECONNREFUSED' }),
      'network',
    ],
    ['PostgreSQL shutting down, through TypeORM', typeormWrapped, 'postgres'],
    ['a dropped PostgreSQL connection', new Error('Connection terminated unexpectedly'), 'postgres'],
    ['ioredis giving up', redisRetries, 'redis'],
    ['ioredis timing out', new Error('Command timed out'), 'redis'],
    [
      'Redis out of memory under noeviction',
      Object.assign(new Error('OOM command not allowed'), { name: 'ReplyError' }),
      'redis',
    ],
    ['a relay deadline', new DependencyUnavailableError('redis', 'no answer'), 'redis'],
    ['a cause chain', new Error('bearer strategy failed', { cause: refused }), 'network'],
  ])('recognise %s', (_what, error, dependency) => {
    expect(dependencyFailureOf(error)).toBe(dependency);
  });

  it.each([
    ['a constraint violation', uniqueViolation],
    ['a bug', new TypeError('x is undefined')],
    ['a Redis script error', Object.assign(new Error('ERR Error running script'), { name: 'ReplyError' })],
  ])('do not take %s for one', (_what, error) => {
    expect(dependencyFailureOf(error)).toBeUndefined();
  });

  it('answer 503 DEPENDENCY_UNAVAILABLE with an error id and no driver detail; a bug stays a 500', () => {
    const logger = { error: jest.fn() };
    const { status, body } = toErrorBody(typeormWrapped, 'r', logger);
    expect(status).toBe(503);
    expect(body.error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', requestId: 'r' });
    expect(body.error.errorId).toEqual(expect.any(String));
    expect(JSON.stringify(body)).not.toMatch(/administrator|5432|57P01/);
    expect(toErrorBody(uniqueViolation, 'r', logger).status).toBe(500);
  });
});
