import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import type { BootstrapOptions } from '@desk/platform';
import type { GatewayConfig } from './config';

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
      // The Swagger UI at /docs needs inline scripts and styles; without it, helmet's strict defaults.
      await app.register(
        helmet,
        docs
          ? {
              contentSecurityPolicy: {
                directives: {
                  defaultSrc: ["'self'"],
                  scriptSrc: ["'self'", "'unsafe-inline'"],
                  styleSrc: ["'self'", "'unsafe-inline'"],
                  imgSrc: ["'self'", 'data:'],
                },
              },
            }
          : {},
      );
      await app.register(cors, {
        origin: config.GATEWAY_CORS_ORIGINS.length
          ? config.GATEWAY_CORS_ORIGINS.map((o) => new URL(o).origin)
          : false,
        methods: ['GET', 'POST', 'PUT', 'DELETE'],
        allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
        exposedHeaders: ['x-request-id', 'retry-after', 'idempotent-replayed'],
      });
    },
  };
}

/** /docs is served when GATEWAY_API_DOCS says so, and by default everywhere but in production. */
export function apiDocsEnabled(config: GatewayConfig): boolean {
  return config.GATEWAY_API_DOCS === ''
    ? config.NODE_ENV !== 'production'
    : config.GATEWAY_API_DOCS === 'true';
}
