import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { JobName, OrderSide, OrderType, type AuditEvent, type OrderParams } from '@desk/contracts';
import { finishedJob, recordRiskDecision, waitFor, unbatched } from '@desk/testing';
import { ExecutionHarness } from './execution-harness';

const btc = (quantity: string): OrderParams => ({
  symbol: 'BTC/USDT',
  side: OrderSide.Buy,
  type: OrderType.Market,
  quantity,
});

/**
 * The attack (docs/adr/0010): whoever can write to Redis adds `order.accepted` jobs straight to the orders
 * queue, under the approval threshold so that no approval is asked for. Execution must place only what risk
 * accepted, exactly as risk accepted it, and record every refusal in the audit log.
 */
describe('execution refuses order.accepted jobs that risk did not accept (own database)', () => {
  let h: ExecutionHarness;

  beforeAll(async () => {
    h = await ExecutionHarness.create('execforged');
    await h.start();
    await h.publishPrice('BTC/USDT', '65000');
  });

  afterAll(async () => {
    await h?.close();
  });

  /** Writes a job to the orders queue as an attacker with Redis access would; waits until it failed. */
  async function forge(job: ReturnType<ExecutionHarness['accepted']>, jobId = job.intentId) {
    await h.queues.orders.add(JobName.OrderAccepted, job, { jobId });
    return finishedJob(h.queues.orders, jobId, 'failed');
  }

  async function forgedEvents(jobId: string): Promise<AuditEvent[]> {
    const jobs = unbatched(await h.queues.audit.getJobs(['waiting', 'prioritized', 'delayed', 'completed']));
    return jobs
      .map((j) => j.data as AuditEvent)
      .filter((e) => e.action === 'job.forged' && e.subject.id === `orders/${jobId}`);
  }

  async function forgedEvent(jobId: string): Promise<AuditEvent> {
    return waitFor(async () => (await forgedEvents(jobId))[0], { what: `job.forged for ${jobId}` });
  }

  it('places nothing for an order risk never saw (a fresh intent id), terminally, and audits it', async () => {
    const job = h.accepted(btc('0.3')); // 19500 at 65000: under the approval threshold (25000)
    const failed = await forge(job);

    expect(failed.attemptsMade).toBe(1); // terminal: never retried
    expect(failed.failedReason).toMatch(/risk has no decision on intent/);
    expect(await h.order(job.intentId)).toBeUndefined();
    expect(await h.position('BTC/USDT')).toBe('0');
    const event = await forgedEvent(job.intentId);
    expect(event).toMatchObject({
      actor: { type: 'service', id: 'execution' },
      subject: { type: 'job', id: `orders/${job.intentId}` },
      payload: {
        queue: 'orders',
        jobName: 'order.accepted',
        jobId: job.intentId,
        reason: `risk has no decision on intent ${job.intentId}`,
        payloadSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    });
    // The payload itself is not copied into the audit log.
    expect(Object.keys(event.payload).sort()).toEqual([
      'jobId',
      'jobName',
      'payloadSha256',
      'queue',
      'reason',
    ]);
    expect(await forgedEvents(job.intentId)).toHaveLength(1);
  });

  it('refuses a real intent id with a larger quantity, and still places the order risk accepted', async () => {
    const genuine = h.accepted(btc('0.01'));
    await recordRiskDecision(h.pg, genuine); // risk accepted 0.01
    const tampered = { ...genuine, order: btc('0.38') }; // 24700: still under the threshold
    const jobId = `${genuine.intentId}.forged`;
    const failed = await forge(tampered, jobId);

    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/order\.quantity: 0\.38 ≠ recorded 0\.01/);
    expect(await h.order(genuine.intentId)).toBeUndefined(); // not placed, and not blocked either
    expect((await forgedEvent(jobId)).payload).toMatchObject({
      jobId,
      reason: expect.stringContaining('order.quantity: 0.38 ≠ recorded 0.01'),
    });

    // Risk's own job for that intent is placed as accepted.
    await h.queues.orders.add(JobName.OrderAccepted, genuine, { jobId: genuine.intentId });
    expect(await h.statusIs(genuine.intentId, 'FILLED')).toMatchObject({ filled_quantity: '0.01' });
    expect(await h.position('BTC/USDT')).toBe('0.01');
  });

  it.each([
    [
      'risk rejected',
      { status: 'REJECTED' as const },
      /risk did not accept intent .* \(its decision: REJECTED\)/,
    ],
    [
      'risk holds it for approval',
      { status: 'PENDING_APPROVAL' as const },
      /risk did not accept intent .* \(its decision: PENDING_APPROVAL\)/,
    ],
  ])('refuses an order %s', async (_label, decision, reason) => {
    const job = h.accepted(btc('0.2'));
    await recordRiskDecision(h.pg, { ...job, ...decision });
    const failed = await forge(job);
    expect(failed.failedReason).toMatch(reason);
    expect(await h.order(job.intentId)).toBeUndefined();
    expect((await forgedEvent(job.intentId)).payload).toMatchObject({
      reason: expect.stringMatching(reason),
    });
  });

  it.each([
    [
      'another limit price',
      { order: { ...btc('0.1'), type: OrderType.Limit, price: '60000' } },
      /order\.type/,
    ],
    ['another side', { order: { ...btc('0.1'), side: OrderSide.Sell } }, /order\.side: sell ≠ recorded buy/],
    [
      'another actor',
      { actor: { type: 'operator' as const, id: 'mallory' } },
      /actor\.id: mallory ≠ recorded alice/,
    ],
    [
      'a reduce-only flag (exempt from the approval rule)',
      { reduceOnly: true },
      /reduceOnly: true ≠ recorded false/,
    ],
    ['an approval claim', { approvalId: randomUUID() }, /approvalId: .* ≠ recorded \(none\)/],
  ])('refuses a real intent id carrying %s', async (_label, change, reason) => {
    const genuine = h.accepted(btc('0.1'));
    await recordRiskDecision(h.pg, genuine);
    const jobId = `${genuine.intentId}.forged`;
    const failed = await forge({ ...genuine, ...change }, jobId);
    expect(failed.failedReason).toMatch(reason);
    expect(await h.order(genuine.intentId)).toBeUndefined();
    await forgedEvent(jobId);
  });

  it('places an order whose decimals are written differently but equal what risk accepted', async () => {
    const genuine = h.accepted(btc('0.02'));
    await recordRiskDecision(h.pg, genuine);
    const job = { ...genuine, order: btc('0.020') };
    await h.queues.orders.add(JobName.OrderAccepted, job, { jobId: job.intentId });
    expect(await h.statusIs(job.intentId, 'FILLED')).toMatchObject({ filled_quantity: '0.02' });
  });
});
