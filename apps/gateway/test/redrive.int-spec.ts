import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { UnrecoverableError, Worker } from 'bullmq';
import { QueueName } from '@desk/contracts';
import { OutboxRedrive, redisOptions } from '@desk/platform';
import { waitFor } from '@desk/testing';
import { Client } from 'pg';
import { criticalOrder, startGateway, type Gateway } from './gateway-harness';

/**
 * Nothing the gateway accepted is lost on the way to risk (no risk runs here, so nothing records them): an
 * order or a kill whose job Redis lost, or that ended in the failed set, is sent again by the sweep.
 */
describe('the gateway re-drives what risk never recorded (real PostgreSQL and Redis)', () => {
  let gw: Gateway;
  let trader: { key: string };
  let riskAdmin: { key: string };

  beforeAll(async () => {
    gw = await startGateway({ REDRIVE_AFTER_MS: '5000', REDRIVE_INTERVAL_MS: '60000' });
    trader = await gw.issueKey(['trader']);
    riskAdmin = await gw.issueKey(['risk-admin']);
  });

  afterAll(async () => {
    await gw?.close();
  });

  const post = (key: string, url: string, payload: object, extra: Record<string, string> = {}) =>
    gw.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${key}`, ...extra }, payload });

  const sweep = () => gw.app.get(OutboxRedrive).redrive();
  const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('sends an accepted order again when Redis lost its job, and a kill before it', async () => {
    const order = await post(
      trader.key,
      '/v1/orders',
      { symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: '0.01' },
      { 'idempotency-key': `redrive-${Date.now()}` },
    );
    expect(order.statusCode).toBe(202);
    const id = order.json().id as string;
    const kill = await post(riskAdmin.key, '/v1/kill', { reason: 'drill: lost kill' });
    expect(kill.statusCode).toBe(202);
    const commandId = kill.json().commandId as string;
    const intents = gw.queue(QueueName.Intents);
    const control = gw.queue(QueueName.Control);
    await waitFor(() => intents.getJob(id), { what: 'the intent on the queue' });
    await waitFor(() => control.getJob(commandId), { what: 'the kill on the queue' });
    // Redis loses both (a failover to a replica that had not caught up).
    await intents.remove(id);
    await control.remove(commandId);
    expect(await sweep()).toBe(0); // younger than REDRIVE_AFTER_MS: still on its way
    await settle(5200);
    expect(await sweep()).toBeGreaterThanOrEqual(2);
    expect(await intents.getJobState(id)).toBe('waiting');
    expect((await intents.getJob(id))?.data).toMatchObject({ intentId: id, order: { quantity: '0.01' } });
    expect(await control.getJobState(commandId)).toBe('waiting');
    expect((await control.getJob(commandId))?.data).toMatchObject({
      command: 'kill',
      reason: 'drill: lost kill',
    });
    // Present now: the next pass sends nothing twice.
    expect(await sweep()).toBe(0);
  });

  it('retries an accepted order whose job ended in the failed set', async () => {
    const order = await post(
      trader.key,
      '/v1/orders',
      { symbol: 'ETH/USDT', side: 'sell', type: 'market', quantity: '0.1' },
      { 'idempotency-key': `redrive-failed-${Date.now()}` },
    );
    const id = order.json().id as string;
    const intents = gw.queue(QueueName.Intents);
    // A consumer that gave up on it (as after an outage longer than the retry horizon).
    const worker = new Worker(
      QueueName.Intents,
      async (job) => {
        if (job.id === id) throw new UnrecoverableError('the database was down for too long');
      },
      { connection: redisOptions(gw.config.REDIS_URL), prefix: gw.prefix },
    );
    try {
      await waitFor(async () => ((await intents.getJobState(id)) === 'failed' ? true : undefined), {
        what: 'the intent failed',
      });
    } finally {
      await worker.close();
    }
    await settle(5200);
    expect(await sweep()).toBeGreaterThanOrEqual(1);
    expect(await intents.getJobState(id)).toBe('waiting');
  });

  it("sends a lost denial again until risk's intent has left PENDING_APPROVAL, and a lost audit event", async () => {
    const requester = await gw.issueKey(['trader']);
    const approver = await gw.issueKey(['approver']);
    const held = await criticalOrder(gw, requester.operatorId);
    const deny = await post(approver.key, `/v1/approvals/${held.approvalId}/deny`, { reason: 'not today' });
    expect(deny.statusCode).toBe(200);
    const intents = gw.queue(QueueName.Intents);
    const audit = gw.queue(QueueName.AuditGateway);
    const jobId = `${held.intentId}.not_approved`;
    const told = await waitFor(() => intents.getJob(jobId), { what: 'intent.not_approved on the queue' });
    const pg = new Client({ connectionString: gw.config.DATABASE_URL });
    await pg.connect();
    try {
      const denial = await waitFor(
        async () => {
          const r = await pg.query<{ job_id: string }>(
            `SELECT job_id FROM gateway.outbox WHERE job_name = 'audit.event' AND published_at IS NOT NULL
              AND payload->'subject'->>'id' = $1 AND payload->>'action' = 'approval.denied'`,
            [held.approvalId],
          );
          return r.rows[0]?.job_id;
        },
        { what: "the denial's audit event published" },
      );
      // Redis loses both.
      await intents.remove(jobId);
      await audit.remove(denial);
      await settle(5200);
      expect(await sweep()).toBeGreaterThanOrEqual(2);
      expect((await intents.getJob(jobId))?.data).toEqual(told.data);
      expect(await audit.getJobState(denial)).toBe('waiting');
      // Risk records the rejection (its intent leaves PENDING_APPROVAL): lost again, it is not sent again.
      await pg.query(`UPDATE risk.intents SET status = 'REJECTED' WHERE id = $1`, [held.intentId]);
      await intents.remove(jobId);
      await sweep();
      expect(await intents.getJobState(jobId)).toBe('unknown');
    } finally {
      await pg.end();
    }
  });
});
