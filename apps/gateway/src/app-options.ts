import cors from '@fastify/cors';
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';
import type { BootstrapOptions } from '@desk/platform';
import type { GatewayConfig } from './config';

/** What the Swagger UI at /docs needs (inline scripts and styles), when it is served. */
const DOCS_CSP: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'", "'unsafe-inline'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
    },
  },
};

/** How the gateway's HTTP app is built: shared by main.ts and the tests, so tests see the real thing. */
export function gatewayAppOptions(config: GatewayConfig): Omit<BootstrapOptions, 'host' | 'port'> {
  const docs = apiDocsEnabled(config);
  return {
    service: 'gateway',
    bodyLimitBytes: config.GATEWAY_BODY_LIMIT_BYTES,
    trustedProxies: config.GATEWAY_TRUSTED_PROXIES,
    openApi: docs
      ? {
          title: 'Trading desk API',
          description:
            'The only door to the platform. Authenticate with `Authorization: Bearer <key>` (never in the query string). ' +
            'Money is always a decimal string. Mutating requests accept an `Idempotency-Key` (required to submit an order).',
          version: '1',
          bearer: true,
        }
      : undefined,
    configure: async (app) => {
      const fastify = app.getHttpAdapter().getInstance();
      // helmet's headers, worked out once (docs/adr/0024: @fastify/helmet builds helmet's middleware again for
      // every request). The Swagger UI at /docs needs inline scripts and styles; without it, helmet's strict
      // defaults.
      const headers = securityHeaders(docs ? DOCS_CSP : {});
      fastify.addHook('onRequest', (_request, reply, done) => {
        void reply.headers(headers);
        done();
      });
      // No origins configured: no CORS at all (a browser on another origin gets no preflight answer).
      if (config.GATEWAY_CORS_ORIGINS.length) {
        await app.register(cors, {
          origin: config.GATEWAY_CORS_ORIGINS.map((o) => new URL(o).origin),
          methods: ['GET', 'POST', 'PUT', 'DELETE'],
          allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
          exposedHeaders: ['x-request-id', 'retry-after', 'idempotent-replayed'],
        });
      }
    },
  };
}

/**
 * The headers helmet's middleware sets for these options, read off it once at boot: none of the options
 * depends on the request (no CSP nonces), so every response gets the same ones.
 */
export function securityHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: unknown) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  let failure: unknown;
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    failure = error;
  });
  if (failure !== undefined)
    throw failure instanceof Error ? failure : new Error('helmet refused its options');
  return headers;
}

/** /docs is served when GATEWAY_API_DOCS says so, and by default everywhere but in production. */
export function apiDocsEnabled(config: GatewayConfig): boolean {
  return config.GATEWAY_API_DOCS === ''
    ? config.NODE_ENV !== 'production'
    : config.GATEWAY_API_DOCS === 'true';
}
