import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ApprovalKind,
  IntentSource,
  JobName,
  OrderSide,
  OrderStatus,
  SCHEMA_VERSION,
  actionHash,
  canonicalJson,
  money,
  orderAction,
  toWire,
  type AuditEvent,
  type ExecutionReported,
  type IntentApproved,
  type IntentSubmitted,
} from '@desk/contracts';
import {
  finishedJob,
  recordAgentIntent,
  recordApproval,
  recordExecutionReport,
  recordSubmission,
  waitFor,
} from '@desk/testing';
import { RISK_ADMIN, RiskHarness, TRADER } from './risk-harness';

/**
 * The attack (docs/adr/0010): whoever can write to Redis adds intents straight to the intents queue, in
 * another operator's name, or claims an approval nobody gave. Risk decides only intents their source
 * recorded, exactly so, and approvals the gateway's record releases; every refusal is audited.
 */
describe('risk refuses intents and approvals their source did not record (own database)', () => {
  let h: RiskHarness;

  beforeAll(async () => {
    // Default approval threshold: 25000. Nothing fills here: accepted orders stay pending exposure.
    h = await RiskHarness.create('riskforged', {
      RISK_MAX_POSITION_SHARE: '100',
      RISK_MAX_GROSS_EXPOSURE: '100000000',
    });
    await h.publishPrices({ 'BTC/USDT': '65000' });
  });

  afterAll(async () => {
    await h?.close();
  });

  /** Adds a job to the intents queue as an attacker with Redis access would; waits until it failed. */
  async function forge(name: JobName, data: object, jobId: string) {
    await h.queues.intents.add(name, data, { jobId });
    return finishedJob(h.queues.intents, jobId, 'failed');
  }

  async function audited(action: string, jobId: string): Promise<AuditEvent[]> {
    return h.auditsEventually((e) => e.action === action && e.subject.id === `intents/${jobId}`);
  }

  async function nothingDecided(intentId: string): Promise<void> {
    const rows = await h.pg.query(`select 1 from risk.intents where id = $1`, [intentId]);
    expect(rows.rowCount).toBe(0);
    await h.settle();
    expect(await h.queues.orders.getJob(intentId)).toBeUndefined();
  }

  it("refuses an intent in another operator's name: the gateway recorded the submission as someone else's", async () => {
    const mine = h.intent({ quantity: '0.1' }, TRADER);
    await recordSubmission(h.pg, mine); // the trader submitted it
    const forged = { ...mine, actor: RISK_ADMIN }; // claimed as the risk admin's
    const failed = await forge(JobName.IntentSubmitted, forged, forged.intentId);

    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/actor\.id: .* ≠ recorded/);
    await nothingDecided(forged.intentId);
    const [event] = await audited('job.forged', forged.intentId);
    expect(event).toMatchObject({
      actor: { type: 'service', id: 'risk' },
      payload: {
        queue: 'intents',
        jobName: 'intent.submitted',
        jobId: forged.intentId,
        reason: expect.stringContaining(`actor.id: ${RISK_ADMIN.id} ≠ recorded ${TRADER.id}`),
      },
    });
    expect(event?.payload).not.toHaveProperty('order');
  });

  it('refuses an operator intent the gateway never recorded (a fresh intent id)', async () => {
    const forged = h.intent({ quantity: '0.1' });
    const failed = await forge(JobName.IntentSubmitted, forged, forged.intentId);
    expect(failed.failedReason).toMatch(/the operator source recorded no intent/);
    await nothingDecided(forged.intentId);
    await audited('job.forged', forged.intentId);
  });

  it('refuses a recorded intent id with a larger quantity, and still decides the intent as submitted', async () => {
    const genuine = h.intent({ quantity: '0.1' });
    await recordSubmission(h.pg, genuine);
    const jobId = `${genuine.intentId}-forged`;
    const failed = await forge(
      JobName.IntentSubmitted,
      { ...genuine, order: { ...genuine.order, quantity: '0.35' } },
      jobId,
    );
    expect(failed.failedReason).toMatch(/order\.quantity: 0\.35 ≠ recorded 0\.1/);
    await audited('job.forged', jobId);

    await h.queues.intents.add(JobName.IntentSubmitted, genuine, { jobId: genuine.intentId });
    expect(await h.decided(genuine.intentId)).toMatchObject({ status: 'ACCEPTED', notional: '6500' });
  });

  it('refuses an agent intent the agents never emitted, and decides one they did', async () => {
    const agent = { type: 'service' as const, id: 'agent-analysis' };
    const forged: IntentSubmitted = { ...h.intent({ quantity: '0.1' }, agent), source: IntentSource.Agent };
    const failed = await forge(JobName.IntentSubmitted, forged, forged.intentId);
    expect(failed.failedReason).toMatch(/the agent source recorded no intent/);
    await nothingDecided(forged.intentId);

    const emitted: IntentSubmitted = { ...h.intent({ quantity: '0.1' }, agent), source: IntentSource.Agent };
    await recordAgentIntent(h.pg, emitted);
    await h.queues.intents.add(JobName.IntentSubmitted, emitted, { jobId: emitted.intentId });
    expect(await h.decided(emitted.intentId)).toMatchObject({ status: 'ACCEPTED', source: 'agent' });
  });

  it('refuses an operator intent recorded by the gateway but claimed as an agent intent', async () => {
    const submitted = h.intent({ quantity: '0.1' });
    await recordSubmission(h.pg, submitted);
    const forged = {
      ...submitted,
      source: IntentSource.Agent,
      actor: { type: 'service', id: 'agent-analysis' },
    };
    const failed = await forge(JobName.IntentSubmitted, forged, forged.intentId);
    expect(failed.failedReason).toMatch(/the agent source recorded no intent/);
    await nothingDecided(forged.intentId);
  });

  it.each([IntentSource.Webhook, IntentSource.Risk])(
    'refuses intents of source %s on the queue',
    async (source) => {
      const forged = { ...h.intent({ quantity: '0.1' }), source };
      const failed = await forge(JobName.IntentSubmitted, forged, forged.intentId);
      expect(failed.failedReason).toMatch(new RegExp(`no service records intents of source ${source}`));
      await nothingDecided(forged.intentId);
    },
  );

  describe('approvals', () => {
    async function held(): Promise<IntentSubmitted> {
      const i = await h.submit(h.intent({ quantity: '0.5' })); // 32500: over the threshold
      await waitFor(async () =>
        (await h.decided(i.intentId)).status === 'PENDING_APPROVAL' ? true : undefined,
      );
      return i;
    }

    function approvalJob(i: IntentSubmitted, approvalId: string): IntentApproved {
      return {
        schemaVersion: SCHEMA_VERSION,
        correlationId: i.correlationId,
        intentId: i.intentId,
        approvalId,
        actor: i.actor,
        order: i.order,
        approvedAt: new Date().toISOString(),
      };
    }

    async function approval(intentId: string, i: IntentSubmitted, status?: 'pending' | 'executed') {
      const action = orderAction(intentId, i.order);
      return recordApproval(h.pg, {
        kind: ApprovalKind.Order,
        subjectId: intentId,
        action: canonicalJson(action),
        actionHash: actionHash(ApprovalKind.Order, action),
        ...(status ? { status } : {}),
      });
    }

    it.each([
      ['a made-up approval id', async () => ({ approvalId: randomUUID() }), /does not exist/],
      [
        "another order's approval",
        async (i: IntentSubmitted) => approval(randomUUID(), i),
        /is for another order/,
      ],
      [
        'an approval still waiting for approvers',
        async (i: IntentSubmitted) => approval(i.intentId, i, 'pending'),
        /is pending, not executed/,
      ],
    ])('refuses a held order released by %s; the order stays held', async (_label, make, reason) => {
      const i = await held();
      const { approvalId } = await make(i);
      const jobId = `${i.intentId}.approved`;
      const failed = await forge(JobName.IntentApproved, approvalJob(i, approvalId), jobId);

      expect(failed.attemptsMade).toBe(1);
      expect(failed.failedReason).toMatch(reason);
      expect(await h.decided(i.intentId)).toMatchObject({ status: 'PENDING_APPROVAL', approval_id: null });
      await h.settle();
      expect(await h.queues.orders.getJob(i.intentId)).toBeUndefined();
      const [event] = await audited('job.forged', jobId);
      expect(event?.payload).toMatchObject({
        jobName: 'intent.approved',
        reason: expect.stringMatching(reason),
      });

      // The real approval (the pending one, once approvers complete it) still releases it.
      const completed = await h.pg.query<{ id: string }>(
        `update gateway.approval_requests set status = 'executed', executed_at = now()
          where subject_id = $1 and status = 'pending' returning id`,
        [i.intentId],
      );
      const realId = completed.rows[0]?.id ?? (await approval(i.intentId, i)).approvalId;
      await h.queues.intents.add(JobName.IntentApproved, approvalJob(i, realId), {
        jobId: `${i.intentId}.approved-real`,
      });
      await waitFor(async () => ((await h.decided(i.intentId)).status === 'ACCEPTED' ? true : undefined), {
        what: 'the really approved order accepted',
      });
    });
  });

  describe('execution reports', () => {
    const report = (over: Partial<ExecutionReported> = {}): ExecutionReported => ({
      schemaVersion: SCHEMA_VERSION,
      correlationId: randomUUID(),
      intentId: randomUUID(),
      symbol: 'BTC/USDT',
      side: OrderSide.Sell,
      status: OrderStatus.Filled,
      fill: {
        fillId: `fill-${randomUUID()}`,
        price: '65000',
        quantity: '0.2',
        fee: '0',
        feeCurrency: 'USDT',
      },
      at: new Date().toISOString(),
      ...over,
    });

    async function position(): Promise<string> {
      const r = await h.pg.query<{ quantity: string }>(
        `select quantity::text from risk.positions where symbol = 'BTC/USDT'`,
      );
      return toWire(money(r.rows[0]?.quantity ?? '0'));
    }

    async function forgeReport(r: ExecutionReported, jobId: string) {
      await h.queues.executions.add(JobName.ExecutionReported, r, { jobId });
      return finishedJob(h.queues.executions, jobId, 'failed');
    }

    it("refuses a fill execution never recorded: risk's position (and so its limits) does not move", async () => {
      const before = await position();
      const forged = report();
      const jobId = `${forged.intentId}.FILLED`;
      const failed = await forgeReport(forged, jobId);
      expect(failed.attemptsMade).toBe(1);
      expect(failed.failedReason).toMatch(/execution recorded no FILLED for order/);
      expect(await position()).toBe(before);
      await h.auditsEventually((e) => e.action === 'job.forged' && e.subject.id === `executions/${jobId}`);
    });

    it('refuses a recorded fill reported with another quantity', async () => {
      const before = await position();
      const genuine = report();
      await recordExecutionReport(h.pg, genuine);
      const forged = { ...genuine, fill: { ...genuine.fill!, quantity: '2' } };
      const failed = await forgeReport(forged, `${genuine.intentId}.forged`);
      expect(failed.failedReason).toMatch(/fill\.quantity: 2 ≠ recorded 0\.2/);
      expect(await position()).toBe(before);
    });
  });

  it('fails a job that breaks its contract terminally and audits it once (job.rejected)', async () => {
    const bad = {
      ...h.intent({}),
      order: { symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: '1e3' },
    };
    const failed = await forge(JobName.IntentSubmitted, bad, bad.intentId);
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/order\.quantity/);
    await audited('job.rejected', bad.intentId);
    await h.settle();
    expect(
      await h.audits((e) => e.action === 'job.rejected' && e.subject.id === `intents/${bad.intentId}`),
    ).toHaveLength(1);
    await nothingDecided(bad.intentId);
  });
});
