import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  JobName,
  OrderSide,
  OrderType,
  type AuditEvent,
  type OrderAccepted,
  type OrderParams,
} from '@desk/contracts';
import { finishedJob, recordRiskDecision, unbatched, waitFor } from '@desk/testing';
import { ExecutionHarness } from './execution-harness';

const btc = (quantity: string): OrderParams => ({
  symbol: 'BTC/USDT',
  side: OrderSide.Buy,
  type: OrderType.Market,
  quantity,
});

/**
 * Execution records the accepted orders that arrive together in one transaction, and the venue's answers
 * about them in another (group commit, docs/adr/0024). A burst must still be handled as if one order at a
 * time: each order checked on its own (risk's decision, an operator's cancel, the approval threshold),
 * each placed and filled once, a forged job refused alone, a redelivered one changing nothing.
 */
describe('accepted orders recorded and filled in batches (real Redis and PostgreSQL, own database)', () => {
  let h: ExecutionHarness;

  beforeAll(async () => {
    h = await ExecutionHarness.create('exec-batches', { APPROVAL_NOTIONAL_THRESHOLD: '25000' });
    await h.start();
    await h.publishPrice('BTC/USDT', '65000');
  });
  afterAll(() => h.close());

  it('a burst of 24 orders in one round trip, with a forgery, an operator cancel, an unapproved critical order and a duplicate', async () => {
    // 0.001 … 0.024 BTC at 65000: 65 … 1560, all under the threshold, except the critical one below.
    const jobs: OrderAccepted[] = Array.from({ length: 24 }, (_, n) =>
      h.accepted(btc(`0.0${String(n + 1).padStart(2, '0')}`)),
    );
    const forgedAt = 5;
    const cancelledAt = 9;
    const criticalAt = 14;
    jobs[criticalAt] = h.accepted(btc('1')); // 65000: needs an approval it does not have
    for (const job of jobs) await recordRiskDecision(h.pg, job);
    // An operator cancelled the tenth before it reached execution (the gateway's record of it).
    await h.pg.query(
      `INSERT INTO gateway.cancel_requests
         (id, actor_type, actor_id, actor_key_id, target_kind, intent_id, requested_at, correlation_id)
       VALUES ($1, 'operator', 'olga', 'key-olga', 'order', $2, now(), $3)`,
      [randomUUID(), jobs[cancelledAt]!.intentId, randomUUID()],
    );
    // The sixth as sent claims ten times what risk accepted.
    const sent = jobs.map((job, n) =>
      n === forgedAt ? { ...job, order: { ...job.order, quantity: '0.06' } } : job,
    );
    const duplicateOf = 3;
    await h.queues.orders.addBulk([
      ...sent.map((data) => ({ name: JobName.OrderAccepted, data, opts: { jobId: data.intentId } })),
      // The fourth once more under another job id (a redelivery by another route).
      {
        name: JobName.OrderAccepted,
        data: jobs[duplicateOf]!,
        opts: { jobId: `${jobs[duplicateOf]!.intentId}.again` },
      },
    ]);

    const forged = await finishedJob(h.queues.orders, sent[forgedAt]!.intentId, 'failed');
    expect(forged.failedReason).toMatch(
      /differs from what risk accepted .*quantity: 0\.06 ≠ recorded 0\.006/,
    );
    expect(await h.order(jobs[forgedAt]!.intentId)).toBeUndefined();

    const cancelled = await h.statusIs(jobs[cancelledAt]!.intentId, 'CANCELLED');
    expect(cancelled.filled_quantity).toBe('0');
    const critical = await h.statusIs(jobs[criticalAt].intentId, 'CANCELLED');
    expect(critical.filled_quantity).toBe('0');
    expect(
      (
        await h.pg.query(`SELECT reason_code FROM execution.orders WHERE id = $1`, [
          jobs[criticalAt].intentId,
        ])
      ).rows[0],
    ).toEqual({ reason_code: 'APPROVAL_INVALID' });

    const filled = jobs.filter((_, n) => ![forgedAt, cancelledAt, criticalAt].includes(n));
    for (const job of filled) await h.statusIs(job.intentId, 'FILLED');
    await finishedJob(h.queues.orders, `${jobs[duplicateOf]!.intentId}.again`, 'completed');

    // Each filled once: one fill row each, and the position is their sum exactly.
    const fills = await h.pg.query<{ order_id: string; quantity: string; tx: string }>(
      `SELECT order_id::text, quantity::text, xmin::text AS tx FROM execution.fills WHERE order_id = ANY($1::uuid[])`,
      [jobs.map((j) => j.intentId)],
    );
    expect(fills.rows.map((r) => r.order_id).sort()).toEqual(filled.map((j) => j.intentId).sort());
    const expected = filled.reduce((sum, j) => sum + Number(j.order.quantity) * 1000, 0) / 1000;
    expect(await h.position('BTC/USDT')).toBe(String(expected));
    // Placed once each: one PLACING event per filled order.
    const placing = await h.pg.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM execution.order_events WHERE status = 'PLACING' AND order_id = ANY($1::uuid[])`,
      [jobs.map((j) => j.intentId)],
    );
    expect(placing.rows[0]?.n).toBe(filled.length);

    // Group commit happened: the orders were recorded, and their fills, in fewer transactions than orders.
    const submitted = await h.pg.query<{ tx: string }>(
      `SELECT xmin::text AS tx FROM execution.order_events
        WHERE status IN ('SUBMITTED', 'CANCELLED') AND order_id = ANY($1::uuid[])`,
      [jobs.map((j) => j.intentId)],
    );
    expect(submitted.rows).toHaveLength(filled.length + 2);
    expect(new Set(submitted.rows.map((r) => r.tx)).size).toBeLessThan(submitted.rows.length);
    expect(new Set(fills.rows.map((r) => r.tx)).size).toBeLessThan(fills.rows.length);
    // The paper venue took them in batches too, each order once.
    const venueTrades = await h.pg.query<{ tx: string }>(
      `SELECT t.xmin::text AS tx FROM execution.paper_trades t
         JOIN execution.orders o ON o.client_order_id = t.client_order_id
        WHERE o.id = ANY($1::uuid[])`,
      [jobs.map((j) => j.intentId)],
    );
    expect(venueTrades.rows).toHaveLength(filled.length);
    expect(new Set(venueTrades.rows.map((r) => r.tx)).size).toBeLessThan(filled.length);

    // Each status announced once to the gateway and to risk, whatever the batches.
    const reports = await waitFor(async () => {
      const all = await h.queues.executions.getJobs(['waiting', 'prioritized', 'delayed', 'completed']);
      const mine = all.filter((j) => filled.some((f) => f.intentId === (j.data as OrderAccepted).intentId));
      return mine.length >= filled.length ? mine : undefined;
    });
    expect(reports).toHaveLength(filled.length);
  });

  it('orders recorded together straight into PLACING keep each history and audit as one at a time would; a reduce-only close among them is still checked against the position', async () => {
    const before = await h.position('BTC/USDT');
    const jobs = Array.from({ length: 12 }, (_, n) => h.accepted(btc(`0.00${(n % 9) + 1}`)));
    // A reduce-only sell larger than the whole position: it would add exposure, so it is never placed.
    const closeAt = 7;
    jobs[closeAt] = h.accepted(
      { ...btc('100'), side: OrderSide.Sell },
      { reduceOnly: true, actor: { type: 'service', id: 'risk' } },
    );
    for (const job of jobs) await recordRiskDecision(h.pg, job);
    await h.queues.orders.addBulk(
      jobs.map((data) => ({ name: JobName.OrderAccepted, data, opts: { jobId: data.intentId } })),
    );

    const close = await h.statusIs(jobs[closeAt].intentId, 'CANCELLED');
    expect(close.filled_quantity).toBe('0');
    const plain = jobs.filter((_, n) => n !== closeAt);
    for (const job of plain) await h.statusIs(job.intentId, 'FILLED');
    const bought = plain.reduce((sum, j) => sum + Number(j.order.quantity) * 1000, 0);
    expect(await h.position('BTC/USDT')).toBe(String((Number(before) * 1000 + bought) / 1000));

    const events = await h.pg.query<{ order_id: string; status: string; event_key: string; tx: string }>(
      `SELECT order_id::text, status, event_key, xmin::text AS tx FROM execution.order_events
        WHERE order_id = ANY($1::uuid[]) ORDER BY id`,
      [plain.map((j) => j.intentId)],
    );
    for (const job of plain) {
      const mine = events.rows.filter((e) => e.order_id === job.intentId);
      // In history order (event ids), each status once, and placed on the first attempt.
      expect(mine.map((e) => e.status)).toEqual(['SUBMITTED', 'PLACING', 'FILLED']);
      expect(mine.slice(0, 2).map((e) => e.event_key)).toEqual(['SUBMITTED:1', 'PLACING:1']);
      const row = await h.pg.query(`SELECT place_attempts, lease_until FROM execution.orders WHERE id = $1`, [
        job.intentId,
      ]);
      expect(row.rows[0]).toEqual({ place_attempts: 1, lease_until: null });
      // Announced as ever: the audit log hears of both transitions, with the order's parameters.
      const submitted = await h.audit(job.intentId, 'order.submitted');
      expect(submitted.payload).toMatchObject({ quantity: job.order.quantity, requestedBy: job.actor });
      expect((await h.audit(job.intentId, 'order.placing')).payload).toMatchObject({ attempt: 1 });
    }
    // Fills recorded together move the position one after the other: each fill's position audit starts
    // where the one before it ended (buys only: the quantities climb), from the position before the burst to
    // the position after it.
    const fillIds = new Set(
      (
        await h.pg.query<{ id: string }>(`SELECT id FROM execution.fills WHERE order_id = ANY($1::uuid[])`, [
          plain.map((j) => j.intentId),
        ])
      ).rows.map((r) => r.id),
    );
    const moves = await waitFor(async () => {
      const all = unbatched(await h.queues.audit.getJobs(['waiting', 'prioritized', 'delayed', 'completed']));
      const mine = all
        .map((j) => j.data as AuditEvent)
        .filter((e) => e.action === 'position.updated' && fillIds.has(String(e.payload.fillId)));
      return mine.length === plain.length ? mine : undefined;
    });
    const steps = moves
      .map((e) => ({ from: Number(e.payload.previousQuantity), to: Number(e.payload.quantity) }))
      .sort((a, b) => a.to - b.to);
    expect(steps[0]!.from).toBeCloseTo(Number(before), 9);
    steps.slice(1).forEach((step, n) => expect(step.from).toBeCloseTo(steps[n]!.to, 9));
    expect(String(steps.at(-1)!.to)).toBe(await h.position('BTC/USDT'));

    // Recorded in fewer transactions than orders (set-based within each batch).
    const accepts = events.rows.filter((e) => e.status === 'SUBMITTED');
    expect(new Set(accepts.map((e) => e.tx)).size).toBeLessThan(accepts.length);
  });
});
