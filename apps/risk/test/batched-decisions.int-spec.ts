import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { JobName, OrderStatus, OrderType, type Actor } from '@desk/contracts';
import { finishedJob, recordSubmission, waitFor } from '@desk/testing';
import { RISK_ADMIN, RiskHarness, TRADER } from './risk-harness';

/**
 * Risk decides new intents that arrive together in one transaction holding the book (group commit,
 * docs/adr/0024). A burst must still be decided as if one intent at a time: each once, in queue order,
 * every limit counting the decisions before it in the same batch, and a forged intent refused alone.
 */
describe('intents decided in batches (real Redis and PostgreSQL)', () => {
  let h: RiskHarness;

  beforeAll(async () => {
    h = await RiskHarness.create('risk-batches', {
      RISK_MAX_OPEN_ORDERS: '5',
      RISK_MAX_POSITION_SHARE: '100',
      RISK_MAX_GROSS_EXPOSURE: '100000000',
      APPROVAL_NOTIONAL_THRESHOLD: '100000000',
    });
    await h.publishPrices({ 'BTC/USDT': '65000' });
  });
  afterAll(() => h.close());

  it('a burst of 24 intents with one forged: the first five open, the rest over the limit, the forgery refused alone', async () => {
    const trader: Actor = { ...TRADER, id: '6f1c1a52-0000-4000-8000-0000000000ee' };
    const resting = { symbol: 'BTC/USDT', type: OrderType.Limit, price: '60000', quantity: '0.01' };
    const intents = Array.from({ length: 24 }, () => h.intent(resting, trader));
    for (const i of intents) await recordSubmission(h.pg, i);
    // The seventh claims to be the risk admin's: the gateway recorded it as the trader's.
    const forgedAt = 6;
    const sent = intents.map((i, n) => (n === forgedAt ? { ...i, actor: RISK_ADMIN } : i));
    // One round trip: the jobs wait together, so the decisions go in batches.
    await h.queues.intents.addBulk(
      sent.map((data) => ({ name: JobName.IntentSubmitted, data, opts: { jobId: data.intentId } })),
    );

    const failed = await finishedJob(h.queues.intents, sent[forgedAt]!.intentId, 'failed');
    expect(failed.failedReason).toMatch(/actor\.id: .* ≠ recorded/);
    const honest = intents.filter((_, n) => n !== forgedAt).map((i) => i.intentId);
    const rows = await waitFor(async () => {
      const r = await h.pg.query<{ id: string; status: string; reason_code: string | null; tx: string }>(
        `SELECT id, status, reason_code, xmin::text AS tx FROM risk.intents WHERE id = ANY($1::uuid[])`,
        [honest],
      );
      return r.rows.length === honest.length ? r.rows : undefined;
    });
    const byId = new Map(rows.map((r) => [r.id, r]));
    // In queue order: the first five accepted, every later one over the open-order limit.
    expect(honest.map((id) => byId.get(id)?.status)).toEqual([
      ...Array.from({ length: 5 }, () => OrderStatus.Accepted),
      ...Array.from({ length: honest.length - 5 }, () => OrderStatus.Rejected),
    ]);
    expect(new Set(honest.slice(5).map((id) => byId.get(id)?.reason_code))).toEqual(
      new Set(['MAX_OPEN_ORDERS']),
    );
    // Group commit happened: fewer transactions than decisions.
    expect(new Set(rows.map((r) => r.tx)).size).toBeLessThan(honest.length);
    // Each decided once: one order.received each, five orders sent on to execution.
    const received = await h.auditsEventually(
      (e) => e.action === 'order.received' && honest.includes(e.subject.id),
      honest.length,
    );
    expect(new Set(received.map((e) => e.subject.id)).size).toBe(honest.length);
    expect(received).toHaveLength(honest.length);
    for (const id of honest.slice(0, 5)) expect(await h.queues.orders.getJob(id)).toBeDefined();
    for (const id of honest.slice(5)) expect(await h.queues.orders.getJob(id)).toBeUndefined();
    const forged = await h.pg.query(`SELECT 1 FROM risk.intents WHERE id = $1`, [sent[forgedAt]!.intentId]);
    expect(forged.rowCount).toBe(0);
  });
});
