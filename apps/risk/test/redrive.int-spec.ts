import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@desk/testing';
import { OutboxRedrive } from '@desk/platform';
import { RiskHarness } from './risk-harness';

/**
 * Nothing risk accepted is lost on the way to execution (no execution runs here, so nothing records it): an
 * accepted order whose job Redis lost is sent again by the sweep, once, and never while it is on its way.
 */
describe('risk re-drives accepted orders execution never recorded (real PostgreSQL and Redis)', () => {
  let h: RiskHarness;

  beforeAll(async () => {
    h = await RiskHarness.create('riskredrive', { REDRIVE_AFTER_MS: '5000', REDRIVE_INTERVAL_MS: '60000' });
    await h.publishPrices({ 'BTC/USDT': '65000' });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('sends an accepted order again when Redis lost its job', async () => {
    const i = await h.submit(h.intent({ quantity: '0.01' }));
    expect(await h.decided(i.intentId)).toMatchObject({ status: 'ACCEPTED' });
    const orders = h.queues.orders;
    await waitFor(() => orders.getJob(i.intentId), { what: 'order.accepted on the queue' });
    await orders.remove(i.intentId);
    const sweep = () => h.get(OutboxRedrive).redrive();
    expect(await sweep()).toBe(0); // younger than REDRIVE_AFTER_MS
    await new Promise((r) => setTimeout(r, 5200));
    expect(await sweep()).toBe(1);
    expect(await orders.getJobState(i.intentId)).toBe('waiting');
    expect((await orders.getJob(i.intentId))?.data).toMatchObject({
      intentId: i.intentId,
      actor: i.actor,
      order: { symbol: 'BTC/USDT', quantity: '0.01' },
    });
    expect(await sweep()).toBe(0);
  });

  it("sends a held order's approval request again when the gateway never recorded it", async () => {
    const i = await h.submit(h.intent({ quantity: '0.5' })); // 32500 at 65000: over the 25000 threshold
    expect(await h.decided(i.intentId)).toMatchObject({ status: 'PENDING_APPROVAL' });
    const approvals = h.queues.approvals;
    const first = await waitFor(() => approvals.getJob(i.intentId), { what: 'approval.requested' });
    const sent = first.data as Record<string, unknown>;
    await approvals.remove(i.intentId);
    await new Promise((r) => setTimeout(r, 5200));
    expect(await h.get(OutboxRedrive).redrive()).toBe(1);
    const again = await approvals.getJob(i.intentId);
    // The same request: what the gateway checks against risk's hold (actor, order, notional, price).
    expect(again?.data).toMatchObject({
      intentId: i.intentId,
      actor: sent.actor,
      order: sent.order,
      reasonCode: 'APPROVAL_REQUIRED',
      context: { notional: '32500', referencePrice: '65000', threshold: '25000' },
    });
  });

  // docs/adr/0024: the relay packs the audit events of one round into one batch job. The sweep follows the
  // batch: while Redis holds it, no event is sent again alone; once Redis lost it, each event goes alone, once.
  it('follows the batch job audit events went in: none sent alone while it waits, each alone once it is lost', async () => {
    const audit = h.queues.audit;
    const i = await h.submit(h.intent({ quantity: '0.01' }));
    expect(await h.decided(i.intentId)).toMatchObject({ status: 'ACCEPTED' });
    const batch = await waitFor(
      async () =>
        (await audit.getJobs(['waiting'])).find(
          (j) =>
            j.name === 'audit.event_batch' &&
            (j.data as { jobs: { subject: { id: string } }[] }).jobs.some((e) => e.subject.id === i.intentId),
        ),
      { what: "the decision's audit events in one batch job" },
    );
    const events = (batch.data as { jobs: { eventId: string }[] }).jobs.map((e) => e.eventId);
    expect(events.length).toBeGreaterThanOrEqual(2);
    await h.queues.orders.remove(i.intentId); // this intent's order job is not what is looked at here
    await new Promise((r) => setTimeout(r, 5200));
    const sweep = () => h.get(OutboxRedrive).redrive();
    expect(await sweep()).toBe(1); // the order job alone: every audit event is in its waiting batch
    for (const id of events) expect(await audit.getJobState(id)).toBe('unknown');
    await batch.remove();
    expect(await sweep()).toBe(events.length);
    for (const id of events) expect(await audit.getJobState(id)).toBe('waiting');
    expect(await sweep()).toBe(0);
  });
});
