/**
 * A dependency the services cannot work without: PostgreSQL, Redis, or the venue's market catalog that
 * execution publishes (orders are not validated, so not taken, without it: MarketCatalogService).
 */
export type Dependency = 'postgres' | 'redis' | 'market-catalog';

/**
 * Thrown by platform code that gives up on a dependency itself (e.g. a Redis call past its deadline);
 * the exception filter answers it like any other dependency failure: 503 DEPENDENCY_UNAVAILABLE.
 */
export class DependencyUnavailableError extends Error {
  constructor(
    readonly dependency: Dependency,
    message: string,
  ) {
    super(message);
    this.name = 'DependencyUnavailableError';
  }
}

/** Socket-level failures (no route, refused, reset, timed out): the peer is down or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * PostgreSQL SQLSTATEs that mean "the server cannot serve now", not "your query is wrong": class 08
 * (connection exception), 57P01-57P03 (shutting down, crashed, starting up), 53300 (too many connections).
 */
const PG_UNAVAILABLE = /^(08...|57P0[1-3]|53300)$/;

/** What node-postgres and pg-pool say when the connection is gone or never came. */
const PG_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection terminated unexpectedly',
];

/** What ioredis says while Redis is unreachable, and Redis's own "not now" replies. */
const REDIS_MESSAGES = [
  'Command timed out',
  'Connection is closed',
  "Stream isn't writeable",
  'Reached the max retries per request limit',
  'None of the sentinels are available',
];
const REDIS_REPLY_PREFIXES = ['LOADING', 'MASTERDOWN', 'READONLY', 'OOM', 'BUSY', 'CLUSTERDOWN', 'TRYAGAIN'];

/**
 * Whether an error means a dependency is down (PostgreSQL or Redis unreachable, restarting, or refusing
 * work for now), and which one when that can be told. Looks through TypeORM's `driverError`, `cause`
 * chains and AggregateError (node's connect to several addresses). `network` when only the socket error
 * is known. A query error (bad SQL, constraint) is never a dependency failure.
 */
export function dependencyFailureOf(error: unknown, depth = 0): Dependency | 'network' | undefined {
  if (typeof error !== 'object' || error === null || depth > 5) return undefined;
  if (error instanceof DependencyUnavailableError) return error.dependency;
  const e = error as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
    driverError?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  const message = typeof e.message === 'string' ? e.message : '';
  const code = typeof e.code === 'string' ? e.code : '';
  if (e.name === 'MaxRetriesPerRequestError') return 'redis';
  if (e.name === 'ReplyError' && REDIS_REPLY_PREFIXES.some((p) => message.startsWith(p))) return 'redis';
  if (REDIS_MESSAGES.some((m) => message.startsWith(m))) return 'redis';
  if (PG_UNAVAILABLE.test(code) && 'severity' in e) return 'postgres';
  if (PG_MESSAGES.some((m) => message.startsWith(m))) return 'postgres';
  const nested: unknown[] = Array.isArray(e.errors) ? (e.errors as unknown[]) : [];
  for (const inner of [e.driverError, e.cause, ...nested]) {
    const found = dependencyFailureOf(inner, depth + 1);
    if (found) return found;
  }
  if (NETWORK_CODES.has(code)) return 'network';
  return undefined;
}
