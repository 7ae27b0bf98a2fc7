import { Processor, WorkerHost, getQueueToken } from '@nestjs/bullmq';
import { Global, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { UnrecoverableError, type Job, type Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { JobName, QueueName, ServiceName } from '@desk/contracts';
import { ConfigModule } from '../../libs/platform/src/config/config.module';
import { loadConfig, platformEnvSchema } from '../../libs/platform/src/config/load-config';
import { STALLED_JOB_RECOVERY } from '../../libs/platform/src/queue/platform-worker';
import { QueueModule } from '../../libs/platform/src/queue/queue.module';
import { clearRedisPrefix, testEnv, uniquePrefix, waitFor } from '@desk/testing';

/**
 * A database or Redis outage longer than a minute, as the workers of every service see it: the handler
 * throws an infrastructure error on every attempt. Before, a job gave up after 8 attempts (about a minute);
 * now it retries with the capped backoff until the retry horizon, and a control command never gives up.
 * The horizon (8 s) and the cap (50 ms) are configured small so the test stays quick.
 */
const HORIZON_MS = 8_000;
const outage = () => new Error('connect ECONNREFUSED 127.0.0.1:5432');

/** Intents: one job fails as in an outage forever, one fails for a business reason. */
@Processor(QueueName.Intents)
class FailingIntentsProcessor extends WorkerHost {
  process(job: Job): Promise<void> {
    if ((job.data as { business?: boolean }).business) throw new UnrecoverableError('limit exceeded');
    throw outage();
  }
}

/** Control: the outage lasts past the retry horizon, then ends. */
@Processor(QueueName.Control)
class OutageControlProcessor extends WorkerHost {
  process(job: Job): Promise<string> {
    if (Date.now() - job.timestamp < HORIZON_MS + 2_000) throw outage();
    return Promise.resolve('halted');
  }
}

@Global()
@Module({ providers: [FailingIntentsProcessor, OutageControlProcessor] })
class FailingWorkersModule {}

describe('a state-changing job retries an infrastructure failure for the retry horizon, not a minute', () => {
  const t = testEnv();
  const prefix = uniquePrefix('retry');
  let app: INestApplicationContext;
  let intents: Queue;
  let control: Queue;

  beforeAll(async () => {
    const config = loadConfig('risk', platformEnvSchema, {
      REDIS_URL: t.redisUrl,
      REDIS_PREFIX: prefix,
      JOB_RETRY_HORIZON_HOURS: String(HORIZON_MS / 3_600_000),
      JOB_RETRY_MAX_DELAY_MS: '50',
    });
    @Module({
      imports: [
        ConfigModule.forRoot(ServiceName.Risk, config, 'TEST_CONFIG'),
        QueueModule.forRoot(config, ServiceName.Risk),
        FailingWorkersModule,
      ],
    })
    class RetryTestModule {}
    app = await NestFactory.createApplicationContext(RetryTestModule, { logger: false });
    intents = app.get<Queue>(getQueueToken(QueueName.Intents), { strict: false });
    control = app.get<Queue>(getQueueToken(QueueName.Control), { strict: false });
  });

  afterAll(async () => {
    await app?.close();
    await clearRedisPrefix(prefix);
  });

  it('keeps retrying past 8 attempts, stays out of the failed set while the horizon lasts, then fails', async () => {
    const job = await intents.add(JobName.IntentSubmitted, { business: false }, { jobId: 'outage-intent' });
    const retried = await waitFor(
      async () => {
        const j = await intents.getJob(job.id);
        return j && j.attemptsMade > 8 ? j : undefined;
      },
      { timeoutMs: HORIZON_MS, what: 'more than 8 attempts' },
    );
    expect(Date.now() - retried.timestamp).toBeLessThan(HORIZON_MS);
    expect(await intents.getJobState(job.id)).not.toBe('failed');
    expect(await intents.getFailedCount()).toBe(0);

    // Once the horizon has passed, the failure is final: the failed set, with its reason, for an operator.
    const failed = await waitFor(
      async () => ((await intents.getJobState(job.id)) === 'failed' ? intents.getJob(job.id) : undefined),
      { timeoutMs: HORIZON_MS + 10_000, what: 'the job to fail after the horizon' },
    );
    expect(failed.failedReason).toContain('ECONNREFUSED');
    expect(failed.finishedOn - failed.timestamp).toBeGreaterThanOrEqual(HORIZON_MS);
    expect(failed.attemptsMade).toBeGreaterThan(8);
  });

  it('fails a business error at once, without a retry', async () => {
    const job = await intents.add(JobName.IntentSubmitted, { business: true }, { jobId: 'business-intent' });
    const failed = await waitFor(
      async () => ((await intents.getJobState(job.id)) === 'failed' ? intents.getJob(job.id) : undefined),
      { what: 'the business failure' },
    );
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toBe('limit exceeded');
  });

  it('never gives up a control command: a kill through an outage longer than the horizon takes effect', async () => {
    const job = await control.add(
      JobName.ControlCommand,
      { command: 'kill' },
      { jobId: 'kill-through-outage' },
    );
    const done = await waitFor(
      async () => ((await control.getJobState(job.id)) === 'completed' ? control.getJob(job.id) : undefined),
      { timeoutMs: HORIZON_MS + 15_000, what: 'the kill to complete' },
    );
    expect(done.returnvalue).toBe('halted');
    expect(done.attemptsMade).toBeGreaterThan(8);
    expect(await control.getFailedCount()).toBe(0);
  });

  it('gives every worker the stalled-job settings the runbook documents', () => {
    const worker = app.get(FailingIntentsProcessor).worker;
    expect(worker.opts).toMatchObject(STALLED_JOB_RECOVERY);
  });
});
