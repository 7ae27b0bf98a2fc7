import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ApprovalKind,
  ApprovalOutcome,
  ControlCommandKind,
  actionHash,
  canonicalJson,
  orderAction,
  JobName,
  SCHEMA_VERSION,
  type ApprovalRequested,
  type IntentApproved,
  type IntentNotApproved,
  type IntentSubmitted,
  type OrderAccepted,
} from '@desk/contracts';
import { recordApproval, waitFor } from '@desk/testing';
import { RiskHarness, TRADER } from './risk-harness';

describe('risk: the two-man rule for critical orders (real Redis and PostgreSQL, own database)', () => {
  let h: RiskHarness;

  beforeAll(async () => {
    // Default threshold (25000). Nothing fills here, so accepted orders stay pending: position limits aside.
    h = await RiskHarness.create('riskappr', {
      RISK_MAX_POSITION_SHARE: '100',
      RISK_MAX_GROSS_EXPOSURE: '100000000',
    });
    await h.publishPrices({ 'BTC/USDT': '65000', 'ETH/USDT': '3200' });
  });

  afterAll(async () => {
    await h?.close();
  });

  /** What the gateway sends on quorum, with the approval it recorded (executed) for exactly that order. */
  async function approved(i: IntentSubmitted, over: Partial<IntentApproved> = {}): Promise<IntentApproved> {
    const action = orderAction(i.intentId, over.order ?? i.order);
    const { approvalId } = await recordApproval(h.pg, {
      kind: ApprovalKind.Order,
      subjectId: i.intentId,
      action: canonicalJson(action),
      actionHash: actionHash(ApprovalKind.Order, action),
    });
    return {
      schemaVersion: SCHEMA_VERSION,
      correlationId: i.correlationId,
      intentId: i.intentId,
      approvalId,
      actor: i.actor,
      order: i.order,
      approvedAt: new Date().toISOString(),
      ...over,
    };
  }

  async function release(a: IntentApproved, jobId = `${a.intentId}.approved`) {
    await h.queues.intents.add(JobName.IntentApproved, a, { jobId });
    return h.settled(h.queues.intents, jobId);
  }

  async function history(intentId: string) {
    const r = await h.pg.query(
      `select status, reason_code from risk.intent_events where intent_id = $1 order by at, id`,
      [intentId],
    );
    return r.rows.map((row: { status: string; reason_code: string | null }) => [row.status, row.reason_code]);
  }

  async function held(order = {}, actor = TRADER): Promise<IntentSubmitted> {
    const i = await h.submit(h.intent({ quantity: '0.5', ...order }, actor)); // 32500 at 65000: over 25000
    await waitFor(async () =>
      (await h.decided(i.intentId)).status === 'PENDING_APPROVAL' ? true : undefined,
    );
    return i;
  }

  it('holds a critical order that passes every check: PENDING_APPROVAL, approval.requested with the numbers, no order', async () => {
    const i = await h.submit(h.intent({ quantity: '0.5' }));
    expect(await h.decided(i.intentId)).toMatchObject({
      status: 'PENDING_APPROVAL',
      reason_code: 'APPROVAL_REQUIRED',
      reason: 'notional 32500 exceeds the approval threshold 25000: two approvers must release it',
      notional: '32500',
    });
    expect(await history(i.intentId)).toEqual([['PENDING_APPROVAL', 'APPROVAL_REQUIRED']]);
    const request = await waitFor(() => h.queues.approvals.getJob(i.intentId), {
      what: 'approval.requested',
    });
    expect(request.name).toBe(JobName.ApprovalRequested);
    expect(request.data as ApprovalRequested).toMatchObject({
      intentId: i.intentId,
      actor: TRADER,
      order: i.order,
      reasonCode: 'APPROVAL_REQUIRED',
      context: { notional: '32500', threshold: '25000', referencePrice: '65000', liveVenue: false },
      correlationId: i.correlationId,
    });
    await h.settle();
    expect(await h.queues.orders.getJob(i.intentId)).toBeUndefined();
    const [event] = await h.auditsEventually(
      (e) => e.action === 'order.pending_approval' && e.subject.id === i.intentId,
    );
    expect(event?.payload).toMatchObject({
      reasonCode: 'APPROVAL_REQUIRED',
      notional: '32500',
      threshold: '25000',
    });
  });

  it('never holds an order that fails a check: it is rejected with that check', async () => {
    const i = await h.submit(h.intent({ quantity: '1' })); // 65000: over the max notional 50000
    expect(await h.decided(i.intentId)).toMatchObject({
      status: 'REJECTED',
      reason_code: 'MAX_NOTIONAL_EXCEEDED',
    });
    expect(await h.queues.approvals.getJob(i.intentId)).toBeUndefined();
  });

  it('does not hold an order at or under the threshold', async () => {
    const i = await h.submit(h.intent({ quantity: '0.1' }));
    expect(await h.decided(i.intentId)).toMatchObject({ status: 'ACCEPTED', reason_code: null });
  });

  it('releases an approved order once, with its approval id, even when the approval is delivered twice', async () => {
    const i = await held();
    const a = await approved(i);
    const first = await release(a);
    expect(first.returnvalue).toEqual({ decided: true, status: 'ACCEPTED' });
    const second = await release(a, `${a.intentId}.approved-again`);
    expect(second.returnvalue).toEqual({ decided: false });

    expect(await h.decided(i.intentId)).toMatchObject({
      status: 'ACCEPTED',
      reason_code: null,
      approval_id: a.approvalId,
    });
    expect(await history(i.intentId)).toEqual([
      ['PENDING_APPROVAL', 'APPROVAL_REQUIRED'],
      ['ACCEPTED', null],
    ]);
    await waitFor(() => h.queues.orders.getJob(i.intentId), { what: 'the released order' });
    await h.settle();
    const orders = await h.jobs(h.queues.orders, JobName.OrderAccepted);
    const mine = orders.filter((j) => (j.data as OrderAccepted).intentId === i.intentId);
    expect(mine).toHaveLength(1);
    expect(mine[0]?.data as OrderAccepted).toMatchObject({
      approvalId: a.approvalId,
      actor: TRADER,
      order: i.order,
    });
    const accepted = await h.auditsEventually(
      (e) => e.action === 'order.accepted' && e.subject.id === i.intentId,
    );
    expect(accepted).toHaveLength(1); // the relay ran (settled above): a second release would show here
    expect(accepted[0]?.payload).toMatchObject({ approvalId: a.approvalId, notional: '32500' });
  });

  it('sends the approved order on with exactly the strings approved (execution checks their hash)', async () => {
    const i = await held({ quantity: '0.50' });
    await release(await approved(i));
    const job = await waitFor(() => h.queues.orders.getJob(i.intentId), { what: 'the released order' });
    expect((job.data as OrderAccepted).order.quantity).toBe('0.50');
  });

  it('re-checks an approved order: a limit lowered meanwhile rejects it', async () => {
    const i = await held();
    await h.send(h.command(ControlCommandKind.SetLimits, { limits: { max_order_notional: '30000' } }));
    expect((await release(await approved(i))).returnvalue).toEqual({ decided: true, status: 'REJECTED' });
    expect(await h.decided(i.intentId)).toMatchObject({
      status: 'REJECTED',
      reason_code: 'MAX_NOTIONAL_EXCEEDED',
    });
    expect(await history(i.intentId)).toEqual([
      ['PENDING_APPROVAL', 'APPROVAL_REQUIRED'],
      ['REJECTED', 'MAX_NOTIONAL_EXCEEDED'],
    ]);
    await h.settle();
    expect(await h.queues.orders.getJob(i.intentId)).toBeUndefined();
    await h.send(
      await h.approvedCommand(ControlCommandKind.SetLimits, { limits: { max_order_notional: '50000' } }),
    );
  });

  it('re-checks an approved order without counting it against itself: at the open-order limit it goes on', async () => {
    // A trader of their own: the held order is their only open order, and the limit is lowered to one.
    const trader = { ...TRADER, id: '6f1c1a52-0000-4000-8000-0000000000a1' };
    const i = await held({}, trader);
    await h.send(h.command(ControlCommandKind.SetLimits, { limits: { max_open_orders: '1' } }));
    try {
      expect((await release(await approved(i))).returnvalue).toEqual({ decided: true, status: 'ACCEPTED' });
      // Now it is open and counts: the same trader's next order is over the limit.
      const next = await h.submit(h.intent({ quantity: '0.1' }, trader));
      expect(await h.decided(next.intentId)).toMatchObject({
        status: 'REJECTED',
        reason_code: 'MAX_OPEN_ORDERS',
      });
    } finally {
      await h.send(
        await h.approvedCommand(ControlCommandKind.SetLimits, { limits: { max_open_orders: '100' } }),
      );
    }
  });

  it('re-checks an approved order: a desk halted meanwhile rejects it', async () => {
    const i = await held();
    await h.send(h.command(ControlCommandKind.Kill, { reason: 'halt before approval' }));
    try {
      expect((await release(await approved(i))).returnvalue).toEqual({ decided: true, status: 'REJECTED' });
      expect(await h.decided(i.intentId)).toMatchObject({
        status: 'REJECTED',
        reason_code: 'TRADING_HALTED',
      });
    } finally {
      await h.send(await h.approvedCommand(ControlCommandKind.Resume));
    }
  });

  it('rejects an approval whose order differs from the order held (APPROVAL_INVALID)', async () => {
    const i = await held();
    const tampered = await approved(i, { order: { ...i.order, quantity: '0.7' } });
    expect((await release(tampered)).returnvalue).toEqual({ decided: true, status: 'REJECTED' });
    expect(await h.decided(i.intentId)).toMatchObject({
      status: 'REJECTED',
      reason_code: 'APPROVAL_INVALID',
    });
    await h.settle();
    expect(await h.queues.orders.getJob(i.intentId)).toBeUndefined();
  });

  it('refuses an approval for an intent it never held, terminally, and audits it', async () => {
    const ghost = await approved(h.intent({ quantity: '0.5' }));
    const job = await release(ghost);
    expect(await job.isFailed()).toBe(true);
    expect(job.failedReason).toMatch(/never held for approval/);
    await h.auditsEventually((e) => e.action === 'job.rejected' && e.subject.id.includes(ghost.intentId));
    const rows = await h.pg.query(`select 1 from risk.intents where id = $1`, [ghost.intentId]);
    expect(rows.rowCount).toBe(0);
  });

  it('ignores an approval for an intent that was never held (accepted at once)', async () => {
    const i = await h.submit(h.intent({ quantity: '0.1' }));
    await h.decided(i.intentId);
    expect((await release(await approved(i))).returnvalue).toEqual({ decided: false });
    expect(await history(i.intentId)).toEqual([['ACCEPTED', null]]);
  });

  /** What the gateway sends when a held order's approval ends unreleased, with its record in that state. */
  async function closed(
    i: IntentSubmitted,
    outcome: ApprovalOutcome,
    recorded: { status?: 'pending' | 'executed' | 'denied' | 'expired' | 'refused'; subjectId?: string } = {},
  ): Promise<IntentNotApproved> {
    const action = orderAction(i.intentId, i.order);
    const { approvalId } = await recordApproval(h.pg, {
      kind: ApprovalKind.Order,
      subjectId: recorded.subjectId ?? i.intentId,
      action: canonicalJson(action),
      actionHash: actionHash(ApprovalKind.Order, action),
      approvers: 0,
      status: recorded.status ?? outcome,
    });
    return {
      schemaVersion: SCHEMA_VERSION,
      correlationId: i.correlationId,
      intentId: i.intentId,
      approvalId,
      outcome,
      reason: outcome === ApprovalOutcome.Denied ? 'too large for a Friday' : 'nobody approved it in time',
      at: new Date().toISOString(),
    };
  }

  async function tell(c: IntentNotApproved, jobId = `${c.intentId}.not_approved`) {
    await h.queues.intents.add(JobName.IntentNotApproved, c, { jobId });
    return h.settled(h.queues.intents, jobId);
  }

  it.each([
    [ApprovalOutcome.Denied, 'APPROVAL_DENIED'],
    [ApprovalOutcome.Expired, 'APPROVAL_EXPIRED'],
    [ApprovalOutcome.Refused, 'APPROVAL_INVALID'],
  ])(
    'owns the held order when its approval ends %s: REJECTED %s once, audited, never sent to execution',
    async (outcome, reasonCode) => {
      const i = await held();
      const c = await closed(i, outcome);
      expect((await tell(c)).returnvalue).toEqual({ decided: true, status: 'REJECTED' });
      expect((await tell(c, `${c.intentId}.not_approved-again`)).returnvalue).toEqual({ decided: false });
      expect(await h.decided(i.intentId)).toMatchObject({ status: 'REJECTED', reason_code: reasonCode });
      expect(await history(i.intentId)).toEqual([
        ['PENDING_APPROVAL', 'APPROVAL_REQUIRED'],
        ['REJECTED', reasonCode],
      ]);
      const [event] = await h.auditsEventually(
        (e) => e.action === 'order.rejected' && e.subject.id === i.intentId,
      );
      expect(event?.payload).toMatchObject({ reasonCode, approvalId: c.approvalId });
      // A late release of the same order finds it decided: nothing goes to execution.
      expect((await release(await approved(i))).returnvalue).toEqual({ decided: false });
      await h.settle();
      expect(await h.queues.orders.getJob(i.intentId)).toBeUndefined();
    },
  );

  it('a denied order stops counting against the day: the order count frees its slot', async () => {
    const before = await h.pg.query(
      `select count(*)::int as n from risk.intents where status in ('ACCEPTED', 'PENDING_APPROVAL')`,
    );
    const i = await held();
    await tell(await closed(i, ApprovalOutcome.Denied));
    const after = await h.pg.query(
      `select count(*)::int as n from risk.intents where status in ('ACCEPTED', 'PENDING_APPROVAL')`,
    );
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it.each([
    ['whose approval is still pending', { status: 'pending' as const }],
    ['whose approval was executed', { status: 'executed' as const }],
    ['whose approval is for another order', { subjectId: '00000000-0000-4000-8000-000000000000' }],
  ])('refuses a forged "not approved" %s: job.forged, the order stays held', async (_what, recorded) => {
    const i = await held();
    const c = await closed(i, ApprovalOutcome.Denied, recorded);
    const job = await tell(c);
    expect(await job.isFailed()).toBe(true);
    expect(job.failedReason).toMatch(/unverified/);
    expect(await h.decided(i.intentId)).toMatchObject({ status: 'PENDING_APPROVAL' });
    await h.auditsEventually((e) => e.action === 'job.forged' && e.subject.id.includes(i.intentId));
  });
});
