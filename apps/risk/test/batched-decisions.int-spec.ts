import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import {
  JobName,
  OrderSide,
  OrderStatus,
  OrderType,
  SCHEMA_VERSION,
  type Actor,
  type ExecutionReported,
} from '@desk/contracts';
import { finishedJob, recordExecutionReport, recordSubmission, waitFor } from '@desk/testing';
import { RISK_ADMIN, RiskHarness, TRADER } from './risk-harness';

/**
 * Risk decides new intents that arrive together in one transaction holding the book (group commit,
 * docs/adr/0024). A burst must still be decided as if one intent at a time: each once, in queue order,
 * every limit counting the decisions before it in the same batch, and a forged intent refused alone.
 */
describe('intents decided and execution reports applied in batches (real Redis and PostgreSQL)', () => {
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

  it('a burst of 30 fill reports, each twice, with one forged: every fill moves the position once, the forgery alone is refused', async () => {
    const symbol = 'ETH/USDT';
    const reports: ExecutionReported[] = Array.from({ length: 30 }, (_, n) => ({
      schemaVersion: SCHEMA_VERSION,
      correlationId: randomUUID(),
      intentId: randomUUID(),
      symbol,
      side: n % 3 === 0 ? OrderSide.Sell : OrderSide.Buy,
      status: OrderStatus.Filled,
      at: new Date().toISOString(),
      fill: { fillId: `fill-${randomUUID()}`, price: '3000', quantity: '0.1', fee: '0', feeCurrency: 'USDT' },
    }));
    for (const r of reports) await recordExecutionReport(h.pg, r);
    // The twelfth claims a larger fill than execution recorded.
    const forgedAt = 11;
    const sent = reports.map((r, n) => (n === forgedAt ? { ...r, fill: { ...r.fill!, quantity: '5' } } : r));
    await h.queues.executions.addBulk(
      sent.flatMap((data) =>
        ['a', 'b'].map((copy) => ({
          name: JobName.ExecutionReported,
          data,
          opts: { jobId: `${data.intentId}.${copy}` },
        })),
      ),
    );
    const forged = await finishedJob(h.queues.executions, `${sent[forgedAt]!.intentId}.a`, 'failed');
    expect(forged.failedReason).toMatch(/fill\.quantity: 5 ≠ recorded 0\.1/);
    const honest = reports.filter((_, n) => n !== forgedAt);
    for (const r of honest) {
      await finishedJob(h.queues.executions, `${r.intentId}.a`, 'completed');
      await finishedJob(h.queues.executions, `${r.intentId}.b`, 'completed');
    }
    // 29 fills of 0.1, ten of them sells (n = 0, 3, …, 27; the forged n = 11 was a buy): 19 × 0.1 − 10 × 0.1.
    const position = await h.pg.query<{ quantity: string }>(
      `SELECT quantity::text FROM risk.positions WHERE symbol = $1`,
      [symbol],
    );
    expect(Number(position.rows[0]?.quantity)).toBeCloseTo(0.9, 12);
    expect(position.rows[0]?.quantity).toMatch(/^0\.90*$/);
    const applied = await h.pg.query<{ tx: string }>(
      `SELECT xmin::text AS tx FROM risk.applied_fills WHERE intent_id = ANY($1::uuid[])`,
      [honest.map((r) => r.intentId)],
    );
    expect(applied.rows).toHaveLength(honest.length);
    // Group commit happened: fewer transactions than fills.
    expect(new Set(applied.rows.map((r) => r.tx)).size).toBeLessThan(honest.length);
  });
});

/**
 * Within a batch, what the decisions change is read again for each: an exposure limit must count the
 * orders the same batch accepted before, even though the limits, positions and day's equity are read once
 * for the batch (docs/adr/0024).
 */
describe('exposure limits within one batch of decisions (real Redis and PostgreSQL)', () => {
  let h: RiskHarness;

  beforeAll(async () => {
    h = await RiskHarness.create('risk-batch-exposure', {
      RISK_MAX_OPEN_ORDERS: '100',
      RISK_MAX_POSITION_SHARE: '100',
      RISK_MAX_GROSS_EXPOSURE: '3000',
      APPROVAL_NOTIONAL_THRESHOLD: '100000000',
    });
    await h.publishPrices({ 'BTC/USDT': '65000' });
  });
  afterAll(() => h.close());

  it('a burst of 12 orders of 600 each under a gross limit of 3000: the first five accepted, the rest over the limit', async () => {
    const trader: Actor = { ...TRADER, id: '6f1c1a52-0000-4000-8000-0000000000ef' };
    const resting = { symbol: 'BTC/USDT', type: OrderType.Limit, price: '60000', quantity: '0.01' };
    const intents = Array.from({ length: 12 }, () => h.intent(resting, trader));
    for (const i of intents) await recordSubmission(h.pg, i);
    await h.queues.intents.addBulk(
      intents.map((data) => ({ name: JobName.IntentSubmitted, data, opts: { jobId: data.intentId } })),
    );
    const ids = intents.map((i) => i.intentId);
    const rows = await waitFor(async () => {
      const r = await h.pg.query<{ id: string; status: string; reason_code: string | null; tx: string }>(
        `SELECT id, status, reason_code, xmin::text AS tx FROM risk.intents WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      return r.rows.length === ids.length ? r.rows : undefined;
    });
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(ids.map((id) => byId.get(id)?.status)).toEqual([
      // 0.01 at the limit price 60000: five make exactly 3000.
      ...Array.from({ length: 5 }, () => OrderStatus.Accepted),
      ...Array.from({ length: 7 }, () => OrderStatus.Rejected),
    ]);
    expect(new Set(ids.slice(5).map((id) => byId.get(id)?.reason_code))).toEqual(
      new Set(['MAX_GROSS_EXPOSURE_EXCEEDED']),
    );
    expect(new Set(rows.map((r) => r.tx)).size).toBeLessThan(ids.length);
  });
});

/**
 * A batch keeps its working state in memory (DecisionLedger, docs/adr/0024): the pending exposure, the rate
 * and per-day counts and each actor's open orders are read once under the book lock, and each decision is
 * added to them. The attempt: a burst that mixes traders and symbols, repeats an intent already decided and
 * carries the same intent twice, so that a ledger counting the wrong thing (another actor's orders, another
 * symbol's, a redelivered intent, a duplicate) would let one more order through or refuse one too many.
 */
describe('counts within one batch of decisions (real Redis and PostgreSQL)', () => {
  let h: RiskHarness;

  beforeAll(async () => {
    h = await RiskHarness.create('risk-batch-counts', {
      RISK_MAX_OPEN_ORDERS: '3',
      RISK_MAX_SUBMIT_RATE_PER_SYMBOL: '4',
      RISK_MAX_ORDERS_PER_DAY: '6',
      RISK_MAX_POSITION_SHARE: '100',
      RISK_MAX_GROSS_EXPOSURE: '100000000',
      APPROVAL_NOTIONAL_THRESHOLD: '100000000',
    });
    await h.publishPrices({ 'BTC/USDT': '65000', 'ETH/USDT': '3000' });
  });
  afterAll(() => h.close());

  it('open orders per actor, the rate per symbol and the orders of the day each count exactly the decisions before', async () => {
    const ann: Actor = { ...TRADER, id: '6f1c1a52-0000-4000-8000-0000000000f1' };
    const bob: Actor = { ...TRADER, id: '6f1c1a52-0000-4000-8000-0000000000f2' };
    const btc = { symbol: 'BTC/USDT', type: OrderType.Limit, price: '60000', quantity: '0.01' };
    const eth = { symbol: 'ETH/USDT', type: OrderType.Limit, price: '2900', quantity: '0.1' };
    // Decided alone first: Ann has one open BTC order before the burst.
    const early = await h.submit(h.intent(btc, ann));
    expect((await h.decided(early.intentId)).status).toBe(OrderStatus.Accepted);

    const burst = [
      h.intent(btc, ann), // Ann's 2nd open, BTC's 2nd this minute, the day's 2nd
      h.intent(btc, bob), // Bob's 1st, BTC 3rd, day 3rd
      h.intent(eth, ann), // Ann's 3rd, ETH 1st, day 4th
      h.intent(eth, ann), // Ann's 4th: over the open-order limit (3)
      h.intent(btc, bob), // Bob's 2nd, BTC 4th, day 5th
      h.intent(btc, bob), // BTC 5th in the minute: over the per-symbol rate (4)
      h.intent(eth, bob), // Bob's 3rd (the refused one is not open), ETH 3rd, day 6th (neither refusal counts)
      h.intent(eth, bob), // ETH 4th, the day's 7th: over the orders of the day (6)
    ];
    for (const i of burst) await recordSubmission(h.pg, i);
    const jobs = [
      ...burst.map((data) => ({ data, jobId: data.intentId })),
      // The early intent again, and the third one twice: each decided once, nothing counted twice.
      { data: early, jobId: `${early.intentId}.again` },
      { data: burst[2]!, jobId: `${burst[2]!.intentId}.again` },
    ];
    await h.queues.intents.addBulk(
      jobs.map(({ data, jobId }) => ({ name: JobName.IntentSubmitted, data, opts: { jobId } })),
    );
    for (const { jobId } of jobs) await finishedJob(h.queues.intents, jobId, 'completed');

    const ids = burst.map((i) => i.intentId);
    const rows = await h.pg.query<{ id: string; status: string; reason_code: string | null; tx: string }>(
      `SELECT id, status, reason_code, xmin::text AS tx FROM risk.intents WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    const byId = new Map(rows.rows.map((r) => [r.id, r]));
    expect(ids.map((id) => byId.get(id)?.reason_code ?? byId.get(id)?.status)).toEqual([
      OrderStatus.Accepted,
      OrderStatus.Accepted,
      OrderStatus.Accepted,
      'MAX_OPEN_ORDERS',
      OrderStatus.Accepted,
      'SUBMIT_RATE_EXCEEDED',
      OrderStatus.Accepted,
      'MAX_ORDERS_PER_DAY',
    ]);
    expect(new Set(rows.rows.map((r) => r.tx)).size).toBeLessThan(ids.length);
    // Each intent has exactly one decision in its history.
    const events = await h.pg.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM risk.intent_events WHERE intent_id = ANY($1::uuid[])`,
      [[early.intentId, ...ids]],
    );
    expect(events.rows[0]?.n).toBe(String(ids.length + 1));
  });
});

/**
 * Reports of one batch are applied with a handful of statements for the whole batch (docs/adr/0024), with
 * the outcome of applying them one at a time in order. The attempt: the reports of one order arrive together
 * and out of order (FILLED before the PARTIALLY_FILLED that preceded it; a cancel after a partial fill), each
 * twice, so that a set-based apply that lost the order of events, counted a fill twice or let a late
 * partial fill replace a final status would leave exposure pending or a position wrong.
 */
describe('reports of one order applied together (real Redis and PostgreSQL)', () => {
  let h: RiskHarness;

  beforeAll(async () => {
    h = await RiskHarness.create('risk-batch-reports', {
      RISK_MAX_POSITION_SHARE: '100',
      RISK_MAX_GROSS_EXPOSURE: '100000000',
      APPROVAL_NOTIONAL_THRESHOLD: '100000000',
    });
    await h.publishPrices({ 'SOL/USDT': '150' });
  });
  afterAll(() => h.close());

  it('a final status stays final, each fill counts once, and the order no longer counts as pending', async () => {
    const symbol = 'SOL/USDT';
    const filled = await h.submit(h.intent({ symbol, side: OrderSide.Buy, quantity: '1' }));
    const cancelled = await h.submit(h.intent({ symbol, side: OrderSide.Sell, quantity: '0.5' }));
    for (const i of [filled, cancelled])
      expect((await h.decided(i.intentId)).status).toBe(OrderStatus.Accepted);
    const fill = (fillId: string, quantity: string, price: string) => ({
      fillId,
      price,
      quantity,
      fee: '0.01',
      feeCurrency: 'USDT',
    });
    const report = (
      intentId: string,
      side: OrderSide,
      status: ExecutionReported['status'],
      f?: ExecutionReported['fill'],
    ): ExecutionReported => ({
      schemaVersion: SCHEMA_VERSION,
      correlationId: randomUUID(),
      intentId,
      symbol,
      side,
      status,
      at: new Date().toISOString(),
      ...(f ? { fill: f } : {}),
    });
    const a = `fill-${randomUUID()}`;
    const b = `fill-${randomUUID()}`;
    const c = `fill-${randomUUID()}`;
    const reports = [
      report(filled.intentId, OrderSide.Buy, OrderStatus.Filled, fill(b, '0.6', '151')),
      report(filled.intentId, OrderSide.Buy, OrderStatus.PartiallyFilled, fill(a, '0.4', '149')),
      report(cancelled.intentId, OrderSide.Sell, OrderStatus.PartiallyFilled, fill(c, '0.2', '152')),
      report(cancelled.intentId, OrderSide.Sell, OrderStatus.Cancelled),
    ];
    for (const r of reports) await recordExecutionReport(h.pg, r);
    await h.queues.executions.addBulk(
      reports.flatMap((data, n) =>
        ['a', 'b'].map((copy) => ({
          name: JobName.ExecutionReported,
          data,
          opts: { jobId: `${data.intentId}.${n}.${copy}` },
        })),
      ),
    );
    for (const [n, r] of reports.entries()) {
      for (const copy of ['a', 'b']) {
        await finishedJob(h.queues.executions, `${r.intentId}.${n}.${copy}`, 'completed');
      }
    }
    const intents = await h.pg.query<{ id: string; execution_status: string; executed_quantity: string }>(
      `SELECT id, execution_status, executed_quantity::text FROM risk.intents WHERE id = ANY($1::uuid[])`,
      [[filled.intentId, cancelled.intentId]],
    );
    const byId = new Map(intents.rows.map((r) => [r.id, r]));
    expect(byId.get(filled.intentId)).toMatchObject({ execution_status: 'FILLED' });
    expect(Number(byId.get(filled.intentId)?.executed_quantity)).toBe(1);
    expect(byId.get(cancelled.intentId)).toMatchObject({ execution_status: 'CANCELLED' });
    expect(Number(byId.get(cancelled.intentId)?.executed_quantity)).toBe(0.2);
    // 0.4 @ 149 + 0.6 @ 151 bought, 0.2 @ 152 sold: 0.8 left at an average of 150.2; three fees of 0.01.
    const position = await h.pg.query<{ quantity: string; average_price: string; fees_paid: string }>(
      `SELECT quantity::text, average_price::text, fees_paid::text FROM risk.positions WHERE symbol = $1`,
      [symbol],
    );
    const p = position.rows[0]!;
    expect([Number(p.quantity), Number(p.average_price), Number(p.fees_paid)]).toEqual([0.8, 150.2, 0.03]);
    const applied = await h.pg.query(
      `SELECT fill_id FROM risk.applied_fills WHERE fill_id = ANY($1::text[])`,
      [[a, b, c]],
    );
    expect(applied.rowCount).toBe(3);
    // Neither order counts as pending exposure any more.
    const pending = await h.pg.query(
      `SELECT 1 FROM risk.intents WHERE id = ANY($1::uuid[])
          AND status = 'ACCEPTED' AND (execution_status IS NULL OR execution_status NOT IN ('FILLED', 'CANCELLED'))`,
      [[filled.intentId, cancelled.intentId]],
    );
    expect(pending.rowCount).toBe(0);
  });
});
