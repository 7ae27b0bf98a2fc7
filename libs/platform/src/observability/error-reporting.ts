import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import * as Sentry from '@sentry/node';
import { dependencyFailureOf } from '../errors/dependency-failure';
import { scrubDeep } from '../secrets/mask';

/** Where an error happened, as tags and context of its report (never an id used as a metric label). */
export interface ErrorContext {
  /** `http` (an unexpected 500) or `queue` (a processor's attempt). */
  readonly origin: 'http' | 'queue';
  readonly requestId?: string;
  readonly errorId?: string;
  readonly queue?: string;
  readonly jobName?: string;
  readonly jobId?: string;
  readonly attempt?: number;
  readonly correlationId?: string;
}

export interface ErrorReportingOptions {
  readonly service: string;
  readonly dsn: string | undefined;
  readonly environment: string;
  readonly release?: string | undefined;
}

let reporting: { service: string } | undefined;

/**
 * Sentry (@sentry/node) when SENTRY_DSN is set: unhandled errors and rejections, the HTTP layer's unexpected
 * 500s and the queue processors' failed attempts (reportError). No tracing, no OpenTelemetry set-up and no
 * default PII; every event and breadcrumb passes the same scrubber as the logs (secret-named fields at any
 * depth, Authorization headers and cookies, every loaded secret value, URL passwords) before it leaves.
 * Without a DSN nothing is initialised and reportError does nothing. Idempotent per process.
 */
export function initErrorReporting(options: ErrorReportingOptions): boolean {
  if (!options.dsn) return false;
  if (reporting) return true;
  Sentry.init({
    dsn: options.dsn,
    environment: options.environment,
    ...(options.release ? { release: options.release } : {}),
    serverName: options.service,
    sendDefaultPii: false,
    skipOpenTelemetrySetup: true,
    tracesSampleRate: 0,
    initialScope: { tags: { service: options.service } },
    beforeSend: (event) => scrubEvent(event),
    beforeBreadcrumb: (breadcrumb) => scrubDeep(breadcrumb) as Sentry.Breadcrumb,
  });
  reporting = { service: options.service };
  return true;
}

/** The event as it may leave the process: no headers, cookies or query strings, secrets scrubbed. */
export function scrubEvent<E extends Sentry.ErrorEvent>(event: E): E {
  if (event.request) {
    delete event.request.headers;
    delete event.request.cookies;
    delete event.request.query_string;
    delete event.request.data;
  }
  return scrubDeep(event) as E;
}

/**
 * Reports an error with where it happened. A dependency being down (PostgreSQL, Redis: a 503, a retried job)
 * is not reported: it is an operational state the metrics and alerts show, and an outage would flood Sentry.
 */
export function reportError(error: unknown, context: ErrorContext): void {
  if (!reporting || dependencyFailureOf(error)) return;
  Sentry.withScope((scope) => {
    scope.setTag('origin', context.origin);
    if (context.queue) scope.setTag('queue', context.queue);
    if (context.jobName) scope.setTag('job_name', context.jobName);
    if (context.correlationId) scope.setTag('correlation_id', context.correlationId);
    if (context.errorId) scope.setTag('error_id', context.errorId);
    if (context.requestId) scope.setTag('request_id', context.requestId);
    if (context.jobId) scope.setContext('job', { id: context.jobId, attempt: context.attempt ?? null });
    Sentry.captureException(error);
  });
}

/** Sends what is queued, then stops reporting, when the application shuts down (bounded). */
@Injectable()
export class ErrorReportingFlush implements OnApplicationShutdown {
  async onApplicationShutdown(): Promise<void> {
    if (!reporting) return;
    reporting = undefined;
    await Sentry.close(2000);
  }
}
