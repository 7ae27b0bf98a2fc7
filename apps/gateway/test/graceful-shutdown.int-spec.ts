import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  JobName,
  OrderSide,
  OrderType,
  QueueName,
  SCHEMA_VERSION,
  type ApprovalRequested,
} from '@desk/contracts';
import { redisOptions } from '@desk/platform';
import { REPO_ROOT, freePort, testEnv, waitFor } from '@desk/testing';
import { holdForApproval, startGateway, type Gateway } from './gateway-harness';

function approvalRequested(intentId: string, operatorId: string): ApprovalRequested {
  return {
    schemaVersion: SCHEMA_VERSION,
    intentId,
    actor: { type: 'operator', id: operatorId, keyId: 'kid_0000000000000000' },
    order: { symbol: 'BTC/USDT', side: OrderSide.Buy, type: OrderType.Limit, quantity: '1', price: '60000' },
    reasonCode: 'APPROVAL_REQUIRED',
    context: { notional: '60000', threshold: '25000', referencePrice: '60000' },
    requestedAt: new Date().toISOString(),
    correlationId: randomUUID(),
  };
}

/**
 * Shutdown with a job in hand: the gateway's approvals worker is held mid-job (the test locks the table
 * the job writes to), the app is closed as SIGTERM would close it, and the job must still complete, on
 * the database it started on, before the connections close.
 */
describe('graceful shutdown with a job in flight', () => {
  let gw: Gateway;
  let pg: Client;
  let operatorId: string;

  beforeAll(async () => {
    gw = await startGateway({ SHUTDOWN_TIMEOUT_MS: '30000' });
    operatorId = (await gw.issueKey(['trader'])).operatorId;
    pg = new Client({ connectionString: gw.config.DATABASE_URL });
    await pg.connect();
  });

  afterAll(async () => {
    await pg?.query('ROLLBACK').catch(() => undefined);
    await pg?.end();
  });

  it('lets the worker finish its current job before closing the database and Redis', async () => {
    const approvals = gw.queue(QueueName.Approvals);
    const intentId = randomUUID();
    const job = approvalRequested(intentId, operatorId);

    // Risk holds the order (the gateway opens a request only for one it holds), then the job is held
    // mid-flight: its INSERT waits for the test's lock.
    await holdForApproval(gw, job);
    await pg.query('BEGIN');
    await pg.query('LOCK TABLE gateway.approval_requests IN SHARE ROW EXCLUSIVE MODE');
    await approvals.add(JobName.ApprovalRequested, job, { jobId: intentId });
    await waitFor(async () => ((await approvals.getJobState(intentId)) === 'active' ? true : undefined), {
      what: 'the approval job in progress',
    });

    let closed = false;
    const closing = gw.close().then(() => {
      closed = true;
    });
    await new Promise((r) => setTimeout(r, 1000));
    expect(closed).toBe(false);
    await pg.query('COMMIT');
    await closing;

    // Finished, not abandoned: recorded in the database and completed on the queue.
    const recorded = await pg.query(`SELECT 1 FROM gateway.approval_requests WHERE subject_id = $1`, [
      intentId,
    ]);
    expect(recorded.rowCount).toBe(1);
    const queue = new Queue(QueueName.Approvals, {
      connection: redisOptions(testEnv().redisUrl),
      prefix: gw.prefix,
    });
    try {
      expect(await queue.getJobState(intentId)).toBe('completed');
    } finally {
      await queue.close();
    }
  });
});

/**
 * A job that cannot finish (held by a lock the test keeps) must not keep a SIGTERMed service alive: past
 * SHUTDOWN_TIMEOUT_MS its worker is closed by force and the process exits; the job stays on the queue
 * (active, its lock lapsing) to be taken up again as stalled, never marked done.
 */
describe('SIGTERM while a job cannot finish', () => {
  let pg: Client;

  afterAll(async () => {
    await pg?.query('ROLLBACK').catch(() => undefined);
    await pg?.end();
  });

  it('exits after SHUTDOWN_TIMEOUT_MS (and the watchdog grace) instead of waiting for the job', async () => {
    const setup = await startGateway();
    const operatorId = (await setup.issueKey(['trader'])).operatorId;
    const { DATABASE_URL: databaseUrl } = setup.config;
    const prefix = setup.prefix;
    const intentId = randomUUID();
    const job = approvalRequested(intentId, operatorId);
    await holdForApproval(setup, job);
    await setup.close();

    const port = await freePort();
    const metricsPort = await freePort();
    const child = spawn(process.execPath, [join(REPO_ROOT, 'apps', 'gateway', 'dist', 'main.js')], {
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: databaseUrl,
        REDIS_URL: testEnv().redisUrl,
        REDIS_PREFIX: prefix,
        GATEWAY_PORT: String(port),
        GATEWAY_METRICS_PORT: String(metricsPort),
        TRADING_SYMBOLS: 'BTC/USDT,ETH/USDT',
        LOG_LEVEL: 'silent',
        SHUTDOWN_TIMEOUT_MS: '1000',
      },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(
        async () =>
          (await fetch(`http://127.0.0.1:${port}/health/live`).catch(() => undefined))?.ok ? true : undefined,
        { timeoutMs: 30_000, what: 'the gateway process to listen' },
      );
      pg = new Client({ connectionString: databaseUrl });
      await pg.connect();
      await pg.query('BEGIN');
      await pg.query('LOCK TABLE gateway.approval_requests IN SHARE ROW EXCLUSIVE MODE');
      const queue = new Queue(QueueName.Approvals, { connection: redisOptions(testEnv().redisUrl), prefix });
      try {
        await queue.add(JobName.ApprovalRequested, job, { jobId: intentId });
        await waitFor(async () => ((await queue.getJobState(intentId)) === 'active' ? true : undefined), {
          what: 'the approval job in progress',
        });

        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const code = await Promise.race([
          exited,
          new Promise<'still running'>((resolve) => {
            timer = setTimeout(() => resolve('still running'), 20_000);
          }),
        ]).finally(() => clearTimeout(timer));
        expect(code).not.toBe('still running');
        // The job was neither finished nor dropped: still active, for the stalled-job check to re-run.
        expect(await queue.getJobState(intentId)).toBe('active');
      } finally {
        await queue.close();
      }
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
