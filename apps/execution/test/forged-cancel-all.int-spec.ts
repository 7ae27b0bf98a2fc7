import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { JobName, OrderSide, OrderType, type AuditEvent, type OrdersCancelAll } from '@desk/contracts';
import { finishedJob, recordCancelAll, waitFor, unbatched } from '@desk/testing';
import { ExecutionHarness } from './execution-harness';

/**
 * The attack (docs/adr/0010): whoever can write to Redis adds `orders.cancel_all` straight to the orders
 * queue, and execution would cancel every open order on the desk. Execution cancels only for a cancel-all
 * risk recorded exactly so (risk.cancel_all_sources); a forgery cancels nothing and is audited.
 */
describe('execution refuses cancel-alls that risk did not ask for (own database)', () => {
  let h: ExecutionHarness;

  beforeAll(async () => {
    h = await ExecutionHarness.create('execforgedcancel');
    await h.start();
    await h.publishPrice('BTC/USDT', '65000');
    await h.setTradingState('ACTIVE');
  });

  afterAll(async () => {
    await h?.close();
  });

  /** A resting limit order (far below the market: it stays OPEN). */
  async function openOrder(): Promise<string> {
    const order = await h.send(
      h.accepted({
        symbol: 'BTC/USDT',
        side: OrderSide.Buy,
        type: OrderType.Limit,
        quantity: '0.1',
        price: '50000',
      }),
    );
    await h.statusIs(order.intentId, 'OPEN');
    return order.intentId;
  }

  /** Adds a cancel-all to the orders queue as an attacker with Redis access would; waits until it failed. */
  async function forge(job: OrdersCancelAll, jobId = `${job.commandId}.cancel_all`) {
    await h.queues.orders.add(JobName.OrdersCancelAll, job, { jobId });
    return finishedJob(h.queues.orders, jobId, 'failed');
  }

  async function forgedEvent(jobId: string): Promise<AuditEvent> {
    return waitFor(
      async () =>
        unbatched(await h.queues.audit.getJobs(['waiting', 'prioritized', 'delayed', 'completed']))
          .map((j) => j.data as AuditEvent)
          .find((e) => e.action === 'job.forged' && e.subject.id === `orders/${jobId}`),
      { what: `job.forged for ${jobId}` },
    );
  }

  it('a cancel-all risk never asked for cancels nothing, terminally, and is audited', async () => {
    const open = await openOrder();
    const forged = h.cancelAllJob('forged halt');
    const failed = await forge(forged);

    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/risk asked for no cancel-all/);
    expect((await h.order(open))?.status).toBe('OPEN');
    const event = await forgedEvent(`${forged.commandId}.cancel_all`);
    expect(event).toMatchObject({
      actor: { type: 'service', id: 'execution' },
      payload: {
        queue: 'orders',
        jobName: 'orders.cancel_all',
        reason: `risk asked for no cancel-all ${forged.commandId}`,
      },
    });
  });

  it('a cancel-all risk recorded cannot be replayed in another name or with another reason', async () => {
    const open = await openOrder();
    const recorded = h.cancelAllJob('breaker drill');
    await recordCancelAll(h.pg, recorded);

    const otherName = await forge(
      { ...recorded, actor: { type: 'operator', id: 'mallory' } },
      `${recorded.commandId}.actor`,
    );
    expect(otherName.failedReason).toMatch(/actor\.id: mallory ≠ recorded rhea/);
    const otherReason = await forge({ ...recorded, reason: 'pay me' }, `${recorded.commandId}.reason`);
    expect(otherReason.failedReason).toMatch(/reason: pay me ≠ recorded breaker drill/);
    await forgedEvent(`${recorded.commandId}.actor`);
    await forgedEvent(`${recorded.commandId}.reason`);
    expect((await h.order(open))?.status).toBe('OPEN');
  });

  it('a cancel-all risk recorded cancels every open order', async () => {
    const cancelAll = await h.sendCancelAll('genuine kill');
    expect(await h.cancelAllResult(cancelAll)).toEqual({ cancelled: 2 });
  });
});
