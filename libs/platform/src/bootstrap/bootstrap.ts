import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { ConfigError } from '../config/load-config';
import { AllExceptionsFilter, toErrorBody } from '../errors/all-exceptions.filter';
import { AppError } from '../errors/app-error';
import { ErrorCode } from '../errors/error-code';
import { startMetricsServer } from '../metrics/metrics-server';

const MAX_URL_LENGTH = 4096;
import type { Logger as PinoRoot } from 'pino';
import { logRequests, requestIdOf, SERVICE_LOGGER } from './logging';

export interface BootstrapOptions {
  service: string;
  host: string;
  port: number;
  bodyLimitBytes?: number;
  /** Proxies whose X-Forwarded-For is believed (addresses or CIDRs); none by default. */
  trustedProxies?: readonly string[];
  openApi?: { title: string; description: string; version: string; bearer?: boolean };
  /**
   * The internal port (and address) serving Prometheus metrics at /metrics, apart from the API
   * (`<SERVICE>_METRICS_PORT`, docs/operations.md); none: no metrics server.
   */
  metrics?: { host: string; port: number };
  /** Extra setup on the Fastify app before listening (security headers, CORS …). */
  configure?: (app: NestFastifyApplication) => Promise<void> | void;
}

/** Creates a service on Fastify, with one error shape, structured logs and clean shutdown, and listens. */
export async function createService(
  module: unknown,
  options: BootstrapOptions,
): Promise<NestFastifyApplication> {
  const app = await buildApp(module, options);
  await app.listen(options.port, options.host);
  if (options.metrics) {
    const server = await startMetricsServer({ service: options.service, ...options.metrics });
    // Never what keeps the process up: shutdown is the service's (its hooks, then exit).
    server.unref();
  }
  return app;
}

/** The configured application without listening (tests drive it with `inject`). */
export async function buildApp(
  module: unknown,
  options: Omit<BootstrapOptions, 'host' | 'port'>,
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: options.bodyLimitBytes ?? 64 * 1024,
    routerOptions: { maxParamLength: 200 },
    trustProxy: options.trustedProxies?.length ? [...options.trustedProxies] : false,
    genReqId: (req: import('node:http').IncomingMessage) => requestIdOf(req),
    requestIdHeader: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(module as never, adapter, {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.useGlobalFilters(new AllExceptionsFilter());
  app.enableShutdownHooks();
  const fastify = app.getHttpAdapter().getInstance();
  // The API speaks JSON only: anything else is a 415, not a string body for the handler to guess at.
  fastify.removeContentTypeParser(['text/plain']);
  // First: every answer, whatever refuses the request later, carries its id in X-Request-Id.
  logRequests(fastify, app.get<PinoRoot>(SERVICE_LOGGER, { strict: false }));
  // Long URLs are refused before routing (ids and filters are short; nothing legitimate needs more).
  // Callback hooks, not async ones: each runs on every request.
  fastify.addHook('onRequest', (request, reply, done) => {
    if (request.url.length <= MAX_URL_LENGTH) return done();
    const { status, body } = toErrorBody(
      new AppError(ErrorCode.UriTooLong, 'request URL too long'),
      String(request.id),
      app.get(Logger),
    );
    void reply.status(status).send(body);
  });
  if (options.openApi) {
    const builder = new DocumentBuilder()
      .setTitle(options.openApi.title)
      .setDescription(options.openApi.description)
      .setVersion(options.openApi.version);
    if (options.openApi.bearer) builder.addBearerAuth();
    const document = SwaggerModule.createDocument(app, builder.build());
    SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
  }
  await options.configure?.(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

/** main.ts body: a configuration error prints its readable list and exits 1, without a stack trace. */
export function runService(start: () => Promise<unknown>): void {
  start().catch((error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
    } else {
      process.stderr.write(
        `fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
    process.exit(1);
  });
}
