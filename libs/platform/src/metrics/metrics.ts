import { Counter, Gauge, Histogram, register, type Metric } from 'prom-client';
import type { SecretsSource } from '../secrets/secrets';

/**
 * The desk's metrics live on prom-client's default registry, one per process, served by each service on
 * its internal metrics port (metrics-server.ts). Labels are bounded sets (status, reason code, queue, job
 * name, breaker): never an id. Metrics are created once per process whichever module asks first.
 */
function once<M extends Metric>(name: string, make: () => M): M {
  return (register.getSingleMetric(name) as M | undefined) ?? make();
}

export function deskCounter<L extends string>(name: string, help: string, labelNames: readonly L[] = []) {
  return once(name, () => new Counter<L>({ name, help, labelNames }));
}

export function deskHistogram<L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[],
  buckets: number[],
) {
  return once(name, () => new Histogram<L>({ name, help, labelNames, buckets }));
}

/**
 * A gauge read at scrape time: `read` is given `timeoutMs`; a read that fails or is late leaves the last
 * values in place and counts a `desk_metrics_collect_errors_total`, never failing the scrape.
 */
export function deskGauge<L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
  read?: (gauge: Gauge<L>) => Promise<void>,
  timeoutMs = COLLECT_TIMEOUT_MS,
) {
  return once(name, () => {
    if (!read) return new Gauge<L>({ name, help, labelNames });
    // Present from the first scrape, so a dashboard or alert on it has a series before anything fails.
    collectErrors().inc({ metric: name }, 0);
    return new Gauge<L>({
      name,
      help,
      labelNames,
      async collect() {
        await withinTimeout(read(this), timeoutMs).catch(() => collectErrors().inc({ metric: name }));
      },
    });
  });
}

/** How long one scrape-time read may take before its gauge keeps its last values. */
export const COLLECT_TIMEOUT_MS = 2000;

const collectErrors = () =>
  deskCounter('desk_metrics_collect_errors_total', 'Scrape-time reads that failed or timed out', ['metric']);

async function withinTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Buckets for job and order latencies, in seconds: 5 ms to 5 min. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** Every processed job: its queue, job name, outcome (completed or failed) and how long the handler took. */
export const jobDuration = () =>
  deskHistogram(
    'desk_queue_job_duration_seconds',
    'Time a queue processor spent on one job attempt, by queue, job name and outcome',
    ['queue', 'job_name', 'outcome'],
    LATENCY_BUCKETS,
  );

/** Where this process's secrets came from: 1 for its source, 0 for the others. */
export const SECRETS_SOURCES: readonly SecretsSource[] = ['environment', 'vault', 'environment-fallback'];

const secretsSourceGauge = () =>
  deskGauge('desk_secrets_source', 'Where this service read its secrets from (1: the source in use)', [
    'source',
  ]);

/** Records where the service's secrets come from (resolveSecrets calls it; without it, boot sets "environment"). */
export function setSecretsSource(source: SecretsSource): void {
  const gauge = secretsSourceGauge();
  for (const s of SECRETS_SOURCES) gauge.set({ source: s }, s === source ? 1 : 0);
}
