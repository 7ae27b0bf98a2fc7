import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import { scrubDeep, scrubText } from '../secrets/mask';
import { currentCorrelationId } from './correlation';

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

export function loggerParams(service: string, level: string): Params {
  return {
    pinoHttp: {
      level,
      base: { service },
      // A line written while a queue job is handled carries the job's correlation id (platform-worker.ts);
      // request lines carry the request's through customProps below.
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
      genReqId: (req: IncomingMessage, res: ServerResponse) => {
        const id = requestIdOf(req);
        res.setHeader('x-request-id', id);
        return id;
      },
      autoLogging: { ignore: (req: IncomingMessage) => (req.url ?? '').startsWith('/health') },
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          url: String(req.url).split('?')[0],
        }),
      },
      customProps: (req: IncomingMessage) => ({ correlationId: req.headers['x-request-id'] }),
    },
  };
}
