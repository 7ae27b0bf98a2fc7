import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { scrubDeep, scrubText } from '../secrets/mask';
import type { FastifyInstance } from 'fastify';
import { currentCorrelationId, withCorrelationId } from './correlation';

/** The service's root pino logger (PlatformModule provides it). */
export const SERVICE_LOGGER = Symbol('SERVICE_LOGGER');

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;

/** The caller's X-Request-Id when it is well-formed, else a new one. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && REQUEST_ID_RE.test(given)) return given;
  const id = randomUUID();
  req.headers['x-request-id'] = id;
  return id;
}

/**
 * Paths never logged whatever the level: credentials and anything named like a secret. The query string is
 * dropped from logged URLs (keys must never travel there, and if one does it must not be kept). Deeper than
 * these paths, `scrubLogObject` masks every field named like a secret (SECRET_KEY_RE) and every secret value
 * the process loaded (libs/platform/src/secrets/mask.ts), in the fields and in the message.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-vault-token"]',
  'res.headers["set-cookie"]',
  'password',
  'secret',
  'token',
  'apiKey',
  '*.password',
  '*.secret',
  '*.token',
  '*.apiKey',
  '*.key',
  // Deeper and top-level (pino's paths match one level each): a nested options or error object.
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.*.headers.authorization',
  'password',
  'secret',
  'token',
  'apiKey',
  '*.*.password',
  '*.*.secret',
  '*.*.token',
  '*.*.apiKey',
  '*.headers["x-vault-token"]',
];

/** pino's log formatter: the merged object with secrets masked at any depth. */
export function scrubLogObject(object: Record<string, unknown>): Record<string, unknown> {
  return scrubDeep(object) as Record<string, unknown>;
}

/**
 * The options of every service's root logger: its name on every line, the correlation id of the request or
 * job being handled (the mixin reads it from correlation.ts's scope), secrets redacted by path and masked by
 * value in fields and messages.
 */
export function loggerOptions(service: string, level: string): LoggerOptions {
  return {
    level,
    base: { service },
    // A line written while a request (bootstrap.ts) or a queue job (platform-worker.ts) is handled carries
    // its correlation id.
    mixin: () => {
      const correlationId = currentCorrelationId();
      return correlationId ? { correlationId } : {};
    },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { log: scrubLogObject },
    hooks: {
      // The message (and its format arguments) may quote a secret too: known values are replaced there.
      logMethod(args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(
          this,
          args.map((a) => (typeof a === 'string' ? scrubText(a) : a)),
        );
      },
    },
  };
}

/**
 * nestjs-pino over the service's root logger, with no HTTP middleware of its own (docs/adr/0024): pino-http
 * made two child loggers per request (their level tables rebuilt each time), through Nest's middleware
 * chain, which was a fifth of the gateway's CPU on a read. Requests get their access line and their
 * correlation scope from two Fastify hooks instead (bootstrap.ts, `logRequests`), and every line written
 * while one is handled is the root logger's with the request's correlation id.
 */
export function loggerParams(logger: Logger): Params {
  return { pinoHttp: { logger }, useExisting: true, forRoutes: [] };
}

/** The service's root logger, writing JSON lines to stdout (or to `stream`, for tests). */
export function createServiceLogger(service: string, level: string, stream?: DestinationStream): Logger {
  return stream ? pino(loggerOptions(service, level), stream) : pino(loggerOptions(service, level));
}

/** The access line of a finished request: its id, method and path (never the query string), status, time. */
export function accessLine(
  request: { id: unknown; method: string; url: string },
  statusCode: number,
  responseTime: number,
): Record<string, unknown> {
  const id = String(request.id);
  return {
    req: { id, method: request.method, url: request.url.split('?')[0] },
    res: { statusCode },
    responseTime: Math.round(responseTime),
    correlationId: id,
  };
}

/**
 * Every request is handled inside its correlation scope (the id it answers with in X-Request-Id, set before
 * anything can refuse it), so each line logged while handling it carries that id; when it has been
 * answered, one access line (health probes excepted; a request whose client hung up first gets a `request aborted` line instead). The scope is
 * entered just before the handler, after the body is read; everything the service does for a request
 * (guards, the controller, the error filter) runs inside the handler.
 */
export function logRequests(fastify: FastifyInstance, logger: Logger): void {
  fastify.addHook('preHandler', (request, _reply, done) => {
    withCorrelationId(String(request.id), done);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    // Built only when it will be written (the benchmark, and quiet deployments, log at warn).
    if (logger.isLevelEnabled('info') && !request.url.startsWith('/health')) {
      const line = accessLine(request, reply.statusCode, reply.elapsedTime);
      logger.info(line, reply.statusCode >= 500 ? 'request errored' : 'request completed');
    }
    done();
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', String(request.id));
    // A client that hung up before its answer (a timeout on its side, say) gets no onResponse: its line
    // is written when the connection closes with the answer unfinished.
    if (logger.isLevelEnabled('info') && !request.url.startsWith('/health')) {
      reply.raw.once('close', () => {
        if (reply.raw.writableFinished) return;
        const { req, correlationId } = accessLine(request, 0, 0);
        logger.info({ req, correlationId }, 'request aborted');
      });
    }
    done();
  });
}
