import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  JobName,
  OrderSide,
  OrderType,
  QueueName,
  SCHEMA_VERSION,
  type ApprovalNotify,
  type ApprovalRequested,
  type AuditEvent,
} from '@desk/contracts';
import { finishedJob, waitFor, unbatched } from '@desk/testing';
import { criticalOrder, holdForApproval, startGateway, type Gateway } from './gateway-harness';

/**
 * The attack (docs/adr/0016): whoever can write to Redis adds `approval.requested` straight to the
 * approvals queue — a pending approval for an order risk never held, in any requester's name, with figures
 * chosen to fool approvers — or `approval.notify` to the notifications queue, making the gateway send any
 * text, signed with the webhook secret. The gateway opens a request only for an order risk holds exactly
 * so (risk.approval_holds), and notifies only what its own approval record says; a forgery is refused
 * terminally and audited as `job.forged`.
 */
describe('the gateway refuses forged approval requests and notifications (real PostgreSQL and Redis)', () => {
  let gw: Gateway;
  let webhook: Server;
  const received: string[] = [];

  beforeAll(async () => {
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
    gw = await startGateway({
      APPROVAL_WEBHOOK_URL: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`,
      APPROVAL_WEBHOOK_SECRET: 'w'.repeat(40),
    });
  });

  afterAll(async () => {
    await gw?.close();
    await new Promise((r) => webhook.close(r));
  });

  const request = (over: Partial<ApprovalRequested> = {}): ApprovalRequested => ({
    schemaVersion: SCHEMA_VERSION,
    intentId: randomUUID(),
    actor: { type: 'operator', id: 'op-alice', keyId: 'kid_0000000000000001' },
    order: { symbol: 'BTC/USDT', side: OrderSide.Buy, type: OrderType.Limit, quantity: '1', price: '60000' },
    reasonCode: 'APPROVAL_REQUIRED',
    context: { notional: '60000', threshold: '25000', referencePrice: '60000' },
    requestedAt: new Date().toISOString(),
    correlationId: randomUUID(),
    ...over,
  });

  async function forge<T extends object>(queue: QueueName, name: JobName, data: T, jobId: string) {
    await gw.queue(queue).add(name, data, { jobId });
    return finishedJob(gw.queue(queue), jobId, 'failed');
  }

  async function approvalsFor(intentId: string): Promise<unknown[]> {
    const list = await gw.app.inject({
      url: '/v1/approvals?limit=200',
      headers: { authorization: `Bearer ${gw.adminKey}` },
    });
    return (list.json().items as { subjectId: string }[]).filter((a) => a.subjectId === intentId);
  }

  async function forgedEvent(subject: string): Promise<AuditEvent> {
    return waitFor(
      async () =>
        unbatched(
          await gw.queue(QueueName.AuditGateway).getJobs(['waiting', 'prioritized', 'delayed', 'completed']),
        )
          .map((j) => j.data as AuditEvent)
          .find((e) => e.action === 'job.forged' && e.subject.id === subject),
      { what: `job.forged for ${subject}` },
    );
  }

  it('an approval request for an order risk never held opens nothing, terminally, and is audited', async () => {
    const forged = request();
    const failed = await forge(QueueName.Approvals, JobName.ApprovalRequested, forged, forged.intentId);

    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/risk holds no intent/);
    expect(await approvalsFor(forged.intentId)).toHaveLength(0);
    expect(await forgedEvent(`approvals/${forged.intentId}`)).toMatchObject({
      actor: { type: 'service', id: 'gateway' },
      payload: { queue: 'approvals', jobName: 'approval.requested', jobId: forged.intentId },
    });
  });

  it('an order risk holds cannot be requested in another name, for another quantity, or with other figures', async () => {
    const held = request();
    await holdForApproval(gw, held);
    const cases: [string, ApprovalRequested, RegExp][] = [
      [
        'actor',
        { ...held, actor: { type: 'operator', id: 'op-mallory' } },
        /actor\.id: op-mallory ≠ recorded op-alice/,
      ],
      [
        'quantity',
        { ...held, order: { ...held.order, quantity: '0.01' } },
        /order\.quantity: 0\.01 ≠ recorded 1/,
      ],
      // A small notional shown to approvers for a large order.
      [
        'figures',
        { ...held, context: { ...held.context, notional: '600' } },
        /context\.notional: "600" ≠ recorded 60000/,
      ],
    ];
    for (const [label, job, reason] of cases) {
      const failed = await forge(
        QueueName.Approvals,
        JobName.ApprovalRequested,
        job,
        `${held.intentId}.${label}`,
      );
      expect(failed.failedReason).toMatch(reason);
      await forgedEvent(`approvals/${held.intentId}.${label}`);
    }
    expect(await approvalsFor(held.intentId)).toHaveLength(0);
  });

  it('the request risk holds opens one pending approval', async () => {
    const trader = await gw.issueKey(['trader']);
    const { intentId, approvalId } = await criticalOrder(gw, trader.operatorId);
    expect(await approvalsFor(intentId)).toEqual([
      expect.objectContaining({ id: approvalId, status: 'pending' }),
    ]);
  });

  it('a request risk no longer holds (decided since) opens nothing and is not called forged', async () => {
    const late = request();
    await holdForApproval(gw, late, 'ACCEPTED');
    await gw.queue(QueueName.Approvals).add(JobName.ApprovalRequested, late, { jobId: late.intentId });
    await finishedJob(gw.queue(QueueName.Approvals), late.intentId, 'completed');
    expect(await approvalsFor(late.intentId)).toHaveLength(0);
  });

  it('a notification says only what the approval record says: unknown or altered ones send nothing', async () => {
    const trader = await gw.issueKey(['trader']);
    const { approvalId } = await criticalOrder(gw, trader.operatorId);
    const genuine = await waitFor(async () => received.find((b) => b.includes(approvalId)), {
      what: 'the genuine notification',
    });
    const notice = JSON.parse(genuine) as Omit<ApprovalNotify, 'schemaVersion' | 'correlationId'>;
    const base: ApprovalNotify = {
      schemaVersion: SCHEMA_VERSION,
      correlationId: randomUUID(),
      approvalId,
      kind: notice.kind,
      summary: notice.summary,
      requiredApprovals: notice.requiredApprovals,
      expiresAt: notice.expiresAt,
    };
    const unknown = { ...base, approvalId: randomUUID(), summary: 'urgent: approve the payout now' };
    const failedUnknown = await forge(
      QueueName.Notifications,
      JobName.ApprovalNotify,
      unknown,
      'forged-unknown',
    );
    expect(failedUnknown.failedReason).toMatch(/recorded no approval/);
    const altered = { ...base, summary: 'order buy 0.001 BTC/USDT market (harmless)' };
    const failedAltered = await forge(
      QueueName.Notifications,
      JobName.ApprovalNotify,
      altered,
      'forged-altered',
    );
    expect(failedAltered.failedReason).toMatch(
      /summary: .* ≠ recorded "order buy 1 BTC\/USDT limit @ 60000"/,
    );
    await forgedEvent('notifications/forged-unknown');
    await forgedEvent('notifications/forged-altered');
    await new Promise((r) => setTimeout(r, 300));
    expect(received.filter((b) => b.includes('payout') || b.includes('harmless'))).toEqual([]);
  });
});
