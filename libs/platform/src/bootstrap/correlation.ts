import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The correlation id of the request or job being handled, for every log line written while handling it
 * (the logger's mixin reads it): one id from the HTTP request through every queue hop to the fill, so
 * `grep <id>` over the services' logs tells an order's whole story.
 */
const storage = new AsyncLocalStorage<{ correlationId: string }>();

export function withCorrelationId<T>(correlationId: string | undefined, work: () => T): T {
  if (!correlationId) return work();
  return storage.run({ correlationId }, work);
}

export function currentCorrelationId(): string | undefined {
  return storage.getStore()?.correlationId;
}

/** The job payload's correlation id, when it carries a well-formed one. */
export function correlationIdOfJob(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const id = (data as { correlationId?: unknown }).correlationId;
  return typeof id === 'string' && id.length > 0 && id.length <= 200 ? id : undefined;
}

/**
 * Runs shared work that serves many requests and jobs (the outbox relay) outside the current one's scope,
 * so its lines are not filed under whichever job happened to start it.
 */
export function withoutCorrelationId<T>(work: () => T): T {
  return storage.exit(work);
}
