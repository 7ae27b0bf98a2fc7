import { Logger, type Type } from '@nestjs/common';
import { reportError } from '../observability/error-reporting';
import { Worker, type Processor, type WorkerOptions } from 'bullmq';
import { QueueName } from '@desk/contracts';
import { correlationIdOfJob, withCorrelationId } from '../bootstrap/correlation';
import { jobDuration } from '../metrics/metrics';
import { batchMembersOf } from '../outbox/job-batches';
import { cappedBackoff, type RetryPolicy } from './retry-policy';

/**
 * How a job held by a process that died (SIGKILL, OOM, power) is found and run again, chosen together
 * (docs/runbook.md, "A service died"):
 * - a live worker renews its job's lock every lockDuration / 2 = 7.5 s, so only an event loop blocked for
 *   15 s loses a lock it still needs;
 * - every stalledInterval = 5 s a worker of the queue moves the jobs whose lock has expired back to wait;
 * - a job is failed for stalling only on its 11th stall (maxStalledCount 10): a job whose worker died is run
 *   again, a job that kills every process that takes it (a poison job) ends in the failed set.
 * A restarted service therefore re-runs what its predecessor held at most lockDuration + stalledInterval =
 * 20 s after it starts (sooner if the lock had already expired); handlers are idempotent by intent id, so
 * the second run completes the order once.
 */
export const STALLED_JOB_RECOVERY = {
  lockDuration: 15_000,
  stalledInterval: 5_000,
  maxStalledCount: 10,
} as const satisfies Pick<WorkerOptions, 'lockDuration' | 'stalledInterval' | 'maxStalledCount'>;

/** The longest time from a service's restart to its re-running a job its killed predecessor held. */
export const STALLED_JOB_RECOVERY_BOUND_MS =
  STALLED_JOB_RECOVERY.lockDuration + STALLED_JOB_RECOVERY.stalledInterval;

/** A processor's own worker options with the platform's retry and stalled-job settings, which win. */
export function platformWorkerOptions(policy: RetryPolicy, options: WorkerOptions): WorkerOptions {
  return {
    ...options,
    ...STALLED_JOB_RECOVERY,
    settings: { ...options.settings, backoffStrategy: cappedBackoff(policy) },
  };
}

/**
 * The queues whose handled jobs are an order's (or a command's) story, logged at info: an intent decided, an
 * order placed, a fill or cancel applied, an approval opened, a control command applied. `grep <correlation
 * id>` over the services' logs shows them at the default level; the rest (audit events, projection updates,
 * agent runs) at debug, as they are many and the audit log holds them anyway.
 */
const STORY_QUEUES: ReadonlySet<string> = new Set([
  QueueName.Intents,
  QueueName.Orders,
  QueueName.Executions,
  QueueName.Approvals,
  QueueName.Control,
  QueueName.OrderCancels,
]);

/**
 * The processor as every worker runs it: each attempt is timed (desk_queue_job_duration_seconds, by queue,
 * job name and outcome), logged (info or debug when it completes, see STORY_QUEUES; warn when it fails:
 * the error's message only, never the payload) and reported to Sentry when it fails (reportError), and every
 * log line written while it runs carries the job's correlation id.
 */
export function measuredProcessor(queue: string, processor: Processor): Processor {
  const logger = new Logger(`queue:${queue}`);
  const logDone = STORY_QUEUES.has(queue) ? logger.log.bind(logger) : logger.debug.bind(logger);
  return async (job, token, signal) => {
    const started = performance.now();
    const end = jobDuration().startTimer({ queue, job_name: job.name });
    const correlationId = correlationIdOfJob(job.data);
    return withCorrelationId(correlationId, async () => {
      const facts = () => ({
        jobId: job.id,
        job: job.name,
        attempt: job.attemptsMade + 1,
        ms: Math.round(performance.now() - started),
      });
      try {
        const result: unknown = await processor(job, token, signal);
        end({ outcome: 'completed' });
        const members = batchMembersOf(job.name, job.data);
        if (!members) logDone(facts(), `${job.name} done`);
        // A batch job (docs/adr/0024): one line per member under its own correlation id, as if it had come
        // alone, so `grep <correlation id>` still finds every step of an order.
        else
          for (const member of members.jobs)
            withCorrelationId(correlationIdOfJob(member), () =>
              logDone({ ...facts(), batchOf: members.jobs.length }, `${members.name} done`),
            );
        return result;
      } catch (error) {
        end({ outcome: 'failed' });
        logger.warn(
          { ...facts(), error: error instanceof Error ? error.message : String(error) },
          `${job.name} attempt failed`,
        );
        reportError(error, {
          origin: 'queue',
          queue,
          jobName: job.name,
          ...(job.id ? { jobId: job.id } : {}),
          attempt: job.attemptsMade + 1,
          ...(correlationId ? { correlationId } : {}),
        });
        throw error;
      }
    });
  };
}

/**
 * The Worker class every `@Processor` gets (QueueModule registers it with BullModule), so the backoff cap,
 * the retry horizon, the stalled-job settings and the measured processor apply to every worker of every
 * service.
 */
export function platformWorkerClass(policy: RetryPolicy): Type<Worker> {
  return class PlatformWorker extends Worker {
    constructor(name: string, processor?: string | URL | null | Processor, options?: WorkerOptions) {
      // BullMQ refuses a worker without options (it needs a connection); the explorer always passes them.
      super(
        name,
        typeof processor === 'function' ? measuredProcessor(name, processor) : processor,
        options && platformWorkerOptions(policy, options),
      );
    }
  };
}
