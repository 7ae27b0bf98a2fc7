import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QueueName } from '@desk/contracts';
import { waitFor, unbatched } from '@desk/testing';
import { criticalOrder, holderKey, startGateway, type Gateway } from './gateway-harness';

describe('two-man rule at the gateway (real PostgreSQL and Redis)', () => {
  let gw: Gateway;
  let webhook: Server;
  const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  let failFirst = true;
  const secret = 'w'.repeat(40);
  let pg: Client;

  beforeAll(async () => {
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        // The first delivery fails: it must be retried, and must not block the request.
        if (failFirst) {
          failFirst = false;
          res.writeHead(503).end();
          return;
        }
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
    gw = await startGateway({
      APPROVAL_WEBHOOK_URL: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`,
      APPROVAL_WEBHOOK_SECRET: secret,
    });
    pg = new Client({ connectionString: gw.config.DATABASE_URL });
    await pg.connect();
  });

  afterAll(async () => {
    await gw.close();
    await pg?.end();
    await new Promise((r) => webhook.close(r));
  });

  const as = (key: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    gw.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}` },
      ...(payload ? { payload } : {}),
    });

  const approvedJobs = async (intentId: string) => {
    await new Promise((r) => setTimeout(r, 300));
    const job = await gw.queue(QueueName.Intents).getJob(`${intentId}.approved`);
    return job ? [job] : [];
  };

  it('holds a critical order with everything an approver needs, and notifies a signed webhook (retried)', async () => {
    const trader = await gw.issueKey(['trader']);
    const { intentId, approvalId } = await criticalOrder(gw, trader.operatorId);
    const view = (await as(gw.adminKey, 'GET', `/v1/approvals/${approvalId}`)).json();
    expect(view).toMatchObject({
      kind: 'order',
      status: 'pending',
      subjectId: intentId,
      action: { intentId, order: { symbol: 'BTC/USDT', quantity: '1', price: '60000' } },
      context: { notional: '60000', threshold: '25000' },
      requester: { type: 'operator', id: trader.operatorId },
      requiredApprovals: 2,
    });
    expect(Date.parse(view.expiresAt) - Date.parse(view.createdAt)).toBe(900_000);
    const delivered = await waitFor(async () => received.find((r) => r.body.includes(approvalId)), {
      timeoutMs: 15_000,
    });
    const ts = String(delivered.headers['x-desk-timestamp']);
    expect(delivered.headers['x-desk-signature']).toBe(
      `sha256=${createHmac('sha256', secret).update(`${ts}.${delivered.body}`).digest('hex')}`,
    );
    expect(JSON.parse(delivered.body)).toMatchObject({
      type: 'approval.requested',
      approvalId,
      kind: 'order',
    });
  });

  it('refuses self-approval (403, audited), counts one operator once, and releases on the second distinct approver', async () => {
    const requester = await gw.issueKey(['trader', 'approver']);
    const { intentId, approvalId } = await criticalOrder(gw, requester.operatorId);
    const self = await as(requester.key, 'POST', `/v1/approvals/${approvalId}/approve`);
    expect(self.statusCode).toBe(403);
    const a = await gw.issueKey(['approver']);
    // A second key of the same operator (its holder generated it; the standing approvers granted it).
    const aAgain = holderKey();
    const granted = await as(gw.adminKey, 'POST', `/v1/operators/${a.operatorId}/keys`, {
      roles: ['approver'],
      keyId: aAgain.keyId,
      digest: aAgain.digest,
    });
    await gw.approveAll(granted.json().approvalId as string);
    expect((await as(a.key, 'POST', `/v1/approvals/${approvalId}/approve`)).json().status).toBe('pending');
    const twice = await as(aAgain.key, 'POST', `/v1/approvals/${approvalId}/approve`);
    expect(twice.json()).toMatchObject({ status: 'pending', approvals: [{ operatorId: a.operatorId }] });
    expect(await approvedJobs(intentId)).toHaveLength(0);
    const b = await gw.issueKey(['approver']);
    const done = await as(b.key, 'POST', `/v1/approvals/${approvalId}/approve`);
    expect(done.json()).toMatchObject({ status: 'executed' });
    const [job] = await waitFor(async () => {
      const jobs = await approvedJobs(intentId);
      return jobs.length ? jobs : undefined;
    });
    expect(job!.data).toMatchObject({
      intentId,
      approvalId,
      actor: { id: requester.operatorId },
      order: { quantity: '1' },
    });
    const everyStep = ['approval.requested', 'approval.refused', 'approval.approved', 'approval.executed'];
    const actions = (await auditActions(approvalId, ...everyStep)).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'approval.requested',
        'approval.refused',
        'approval.approved',
        'approval.executed',
      ]),
    );
  });

  it('only approver keys decide', async () => {
    const requester = await gw.issueKey(['trader']);
    const { approvalId } = await criticalOrder(gw, requester.operatorId);
    const trader = await gw.issueKey(['trader']);
    expect((await as(trader.key, 'POST', `/v1/approvals/${approvalId}/approve`)).statusCode).toBe(403);
    expect((await as(gw.adminKey, 'POST', `/v1/approvals/${approvalId}/approve`)).statusCode).toBe(403);
  });

  it('releases exactly once under many concurrent final approvals', async () => {
    const requester = await gw.issueKey(['trader']);
    const { intentId, approvalId } = await criticalOrder(gw, requester.operatorId);
    const first = await gw.issueKey(['approver']);
    await as(first.key, 'POST', `/v1/approvals/${approvalId}/approve`);
    const approvers = await Promise.all(Array.from({ length: 8 }, () => gw.issueKey(['approver'])));
    const results = await Promise.all(
      approvers.map((k) => as(k.key, 'POST', `/v1/approvals/${approvalId}/approve`)),
    );
    expect(
      results.filter((r) => r.statusCode === 200 && r.json().status === 'executed').length,
    ).toBeGreaterThanOrEqual(1);
    for (const r of results) expect([200, 409]).toContain(r.statusCode);
    const executed = await pg.query(
      `SELECT count(*)::int AS n FROM gateway.outbox WHERE job_name = 'intent.approved' AND payload->>'intentId' = $1`,
      [intentId],
    );
    expect(executed.rows[0].n).toBe(1);
  });

  it('makes a denial final, and never executes an expired request', async () => {
    const requester = await gw.issueKey(['trader']);
    const a = await gw.issueKey(['approver']);
    const b = await gw.issueKey(['approver']);
    const denied = await criticalOrder(gw, requester.operatorId);
    expect((await as(a.key, 'POST', `/v1/approvals/${denied.approvalId}/deny`, {})).statusCode).toBe(400);
    const deny = await as(a.key, 'POST', `/v1/approvals/${denied.approvalId}/deny`, {
      reason: 'too large for today',
    });
    expect(deny.json()).toMatchObject({ status: 'denied', statusReason: 'too large for today' });
    expect((await as(b.key, 'POST', `/v1/approvals/${denied.approvalId}/approve`)).statusCode).toBe(409);

    const late = await criticalOrder(gw, requester.operatorId);
    await as(a.key, 'POST', `/v1/approvals/${late.approvalId}/approve`);
    await pg.query(
      `UPDATE gateway.approval_requests SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [late.approvalId],
    );
    const tooLate = await as(b.key, 'POST', `/v1/approvals/${late.approvalId}/approve`);
    expect(tooLate.statusCode).toBe(409);
    expect(tooLate.json().error.message).toMatch(/expired/);
    expect((await as(gw.adminKey, 'GET', `/v1/approvals/${late.approvalId}`)).json().status).toBe('expired');
    expect(await approvedJobs(late.intentId)).toHaveLength(0);
    expect(await approvedJobs(denied.intentId)).toHaveLength(0);
    // Risk owns the held orders' state: it is told each ended without release, with the gateway's reason.
    const told = async (intentId: string) =>
      (
        await waitFor(() => gw.queue(QueueName.Intents).getJob(`${intentId}.not_approved`), {
          what: `intent.not_approved for ${intentId}`,
        })
      ).data as Record<string, unknown>;
    expect(await told(denied.intentId)).toMatchObject({
      intentId: denied.intentId,
      approvalId: denied.approvalId,
      outcome: 'denied',
      reason: 'too large for today',
    });
    expect(await told(late.intentId)).toMatchObject({
      intentId: late.intentId,
      approvalId: late.approvalId,
      outcome: 'expired',
    });
  });

  it('tells risk of an order whose approval expired with nobody deciding (the expiry sweeper)', async () => {
    const requester = await gw.issueKey(['trader']);
    const ignored = await criticalOrder(gw, requester.operatorId);
    await pg.query(
      `UPDATE gateway.approval_requests SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [ignored.approvalId],
    );
    const job = await waitFor(() => gw.queue(QueueName.Intents).getJob(`${ignored.intentId}.not_approved`), {
      what: 'intent.not_approved from the sweeper',
      timeoutMs: 10_000,
    });
    expect(job.data).toMatchObject({ approvalId: ignored.approvalId, outcome: 'expired' });
  });

  it('stops counting an approver whose key is revoked before execution', async () => {
    const requester = await gw.issueKey(['trader']);
    const { intentId, approvalId } = await criticalOrder(gw, requester.operatorId);
    const a = await gw.issueKey(['approver']);
    const b = await gw.issueKey(['approver']);
    await as(a.key, 'POST', `/v1/approvals/${approvalId}/approve`);
    await as(gw.adminKey, 'POST', `/v1/keys/${a.keyId}/revoke`);
    expect((await as(b.key, 'POST', `/v1/approvals/${approvalId}/approve`)).json().status).toBe('pending');
    expect(await approvedJobs(intentId)).toHaveLength(0);
    const c = await gw.issueKey(['approver']);
    expect((await as(c.key, 'POST', `/v1/approvals/${approvalId}/approve`)).json().status).toBe('executed');
  });

  it('never executes an action whose stored form no longer matches the approved hash', async () => {
    const requester = await gw.issueKey(['trader']);
    const { intentId, approvalId } = await criticalOrder(gw, requester.operatorId);
    const a = await gw.issueKey(['approver']);
    const b = await gw.issueKey(['approver']);
    await as(a.key, 'POST', `/v1/approvals/${approvalId}/approve`);
    // Someone with database access makes the order bigger after the first approval.
    await pg.query(
      `UPDATE gateway.approval_requests SET action = replace(action, '"quantity":"1"', '"quantity":"100"') WHERE id = $1`,
      [approvalId],
    );
    const last = await as(b.key, 'POST', `/v1/approvals/${approvalId}/approve`);
    expect(last.json()).toMatchObject({ status: 'refused' });
    expect(await approvedJobs(intentId)).toHaveLength(0);
  });

  it('resumes trading only through two approvals', async () => {
    const riskAdmin = await gw.issueKey(['risk-admin']);
    const resume = await as(riskAdmin.key, 'POST', '/v1/resume', { reason: 'venue is back' });
    expect(resume.statusCode).toBe(202);
    const { approvalId } = resume.json();
    const control = gw.queue(QueueName.Control);
    const resumeJobs = async () =>
      unbatched(await control.getJobs(['waiting', 'completed', 'active', 'delayed'], 0, 1000)).filter(
        (j) => j.data?.approvalId === approvalId,
      );
    await new Promise((r) => setTimeout(r, 300));
    expect(await resumeJobs()).toHaveLength(0);
    const [a, b] = [await gw.issueKey(['approver']), await gw.issueKey(['approver'])];
    await as(a.key, 'POST', `/v1/approvals/${approvalId}/approve`);
    expect(await resumeJobs()).toHaveLength(0);
    await as(b.key, 'POST', `/v1/approvals/${approvalId}/approve`);
    const [job] = await waitFor(async () => {
      const jobs = await resumeJobs();
      return jobs.length ? jobs : undefined;
    });
    const version = await pg.query(`SELECT version::text AS v FROM risk.trading_state`);
    expect(job!.data).toMatchObject({
      command: 'resume',
      reason: 'venue is back',
      actor: { id: riskAdmin.operatorId },
      stateVersion: version.rows[0].v,
    });
  });

  it('never lets a resume approved for one halt lift a later one: refused at quorum, nothing sent', async () => {
    const riskAdmin = await gw.issueKey(['risk-admin']);
    const { approvalId } = (
      await as(riskAdmin.key, 'POST', '/v1/resume', { reason: 'first halt over' })
    ).json();
    const [a, b] = [await gw.issueKey(['approver']), await gw.issueKey(['approver'])];
    await as(a.key, 'POST', `/v1/approvals/${approvalId}/approve`);
    // Meanwhile risk halts the desk again (a kill or a breaker): the trading state's version moves on.
    await pg.query(`UPDATE risk.trading_state SET version = version + 1, state = 'HALTED', source = 'kill'`);
    const last = await as(b.key, 'POST', `/v1/approvals/${approvalId}/approve`);
    expect(last.json()).toMatchObject({
      status: 'refused',
      statusReason: expect.stringMatching(/trading state changed since this resume was requested/),
    });
    await new Promise((r) => setTimeout(r, 300));
    const sent = (
      await gw.queue(QueueName.Control).getJobs(['waiting', 'completed', 'active', 'delayed'])
    ).filter((j) => j.data?.approvalId === approvalId);
    expect(sent).toHaveLength(0);
  });

  it('never raises limits against limits that changed since the request: refused at quorum', async () => {
    const riskAdmin = await gw.issueKey(['risk-admin']);
    const raise = await as(riskAdmin.key, 'PUT', '/v1/risk/limits', {
      reason: 'bigger clips',
      limits: { max_order_notional: '70000' },
    });
    expect(raise.statusCode).toBe(202);
    const { approvalId } = raise.json();
    const [a, b] = [await gw.issueKey(['approver']), await gw.issueKey(['approver'])];
    await as(a.key, 'POST', `/v1/approvals/${approvalId}/approve`);
    await pg.query(
      `UPDATE risk.limits SET revision = nextval('risk.limits_revision_seq') WHERE name = 'price_band'`,
    );
    const last = await as(b.key, 'POST', `/v1/approvals/${approvalId}/approve`);
    expect(last.json()).toMatchObject({
      status: 'refused',
      statusReason: expect.stringMatching(/limits changed since this raise was requested/),
    });
  });

  it('kills at once, without approval, and only for risk-admin keys', async () => {
    const trader = await gw.issueKey(['trader']);
    expect((await as(trader.key, 'POST', '/v1/kill', { reason: 'x' })).statusCode).toBe(403);
    const riskAdmin = await gw.issueKey(['risk-admin']);
    expect((await as(riskAdmin.key, 'POST', '/v1/kill', {})).statusCode).toBe(400);
    const kill = await as(riskAdmin.key, 'POST', '/v1/kill', { reason: 'runaway agent', flatten: true });
    expect(kill.statusCode).toBe(202);
    const job = await waitFor(async () => {
      const jobs = await gw.queue(QueueName.Control).getJobs(['waiting', 'completed', 'active'], 0, 1000);
      return jobs.find((j) => j.data?.commandId === kill.json().commandId);
    });
    expect(job.data).toMatchObject({
      command: 'kill',
      reason: 'runaway agent',
      flatten: true,
      actor: { id: riskAdmin.operatorId },
    });
  });

  /** The audit events about a subject, once those with each of `actions` have arrived (the outbox relays them). */
  const auditActions = async (subjectId: string, ...actions: string[]) =>
    waitFor(
      async () => {
        const jobs = unbatched(
          await gw.queue(QueueName.AuditGateway).getJobs(['waiting', 'completed', 'active'], 0, 5000),
        );
        const found = jobs
          .filter((j) => j.data?.subject?.id === subjectId)
          .map((j) => j.data as { action: string; payload: object });
        return found.length && actions.every((a) => found.some((e) => e.action === a)) ? found : undefined;
      },
      { what: `${actions.join(', ')} audit events about ${subjectId}` },
    );

  it('enables live trading on a venue only through two approvals; switching it off never waits', async () => {
    const riskAdmin = await gw.issueKey(['risk-admin']);
    const trader = await gw.issueKey(['trader']);
    const enable = (key: string, venue: string, payload: object) =>
      as(key, 'POST', `/v1/venues/${venue}/enable-live`, payload);
    expect((await enable(trader.key, 'binance', { reason: 'go live' })).statusCode).toBe(403);
    const paper = await enable(riskAdmin.key, 'paper', { reason: 'go live' });
    expect(paper.statusCode).toBe(400);
    expect(paper.json().error.details).toEqual([
      { field: 'venue', reason: 'the paper venue never trades real money' },
    ]);
    expect((await enable(riskAdmin.key, 'Bin%20ance', { reason: 'go live' })).statusCode).toBe(400);
    expect((await enable(riskAdmin.key, 'binance', {})).statusCode).toBe(400);

    const res = await enable(riskAdmin.key, 'binance', { reason: 'funded the account' });
    expect(res.statusCode).toBe(202);
    const { approvalId } = res.json();
    expect(res.json()).toMatchObject({ status: 'pending_approval', venue: 'binance', requiredApprovals: 2 });
    const view = (await as(gw.adminKey, 'GET', `/v1/approvals/${approvalId}`)).json();
    expect(view).toMatchObject({
      kind: 'venue.live',
      action: { venue: 'binance', reason: 'funded the account' },
      requester: { id: riskAdmin.operatorId },
    });
    const controlJobs = async (match: (d: Record<string, unknown>) => boolean) =>
      (await gw.queue(QueueName.Control).getJobs(['waiting', 'completed', 'active', 'delayed'], 0, 1000))
        .map((j) => j.data as Record<string, unknown>)
        .filter(match);
    const enableJobs = () => controlJobs((d) => d.approvalId === approvalId);
    const [a, b] = [await gw.issueKey(['approver']), await gw.issueKey(['approver'])];
    await as(a.key, 'POST', `/v1/approvals/${approvalId}/approve`);
    await new Promise((r) => setTimeout(r, 300));
    expect(await enableJobs()).toEqual([]);
    await as(b.key, 'POST', `/v1/approvals/${approvalId}/approve`);
    const [job] = await waitFor(async () => {
      const jobs = await enableJobs();
      return jobs.length ? jobs : undefined;
    });
    expect(job).toMatchObject({
      command: 'venue.live.enable',
      venue: 'binance',
      reason: 'funded the account',
      actor: { id: riskAdmin.operatorId },
    });

    const off = await as(riskAdmin.key, 'POST', '/v1/venues/binance/disable-live', { reason: 'enough' });
    expect(off.statusCode).toBe(202);
    const [disable] = await waitFor(async () => {
      const jobs = await controlJobs((d) => d.commandId === off.json().commandId);
      return jobs.length ? jobs : undefined;
    });
    expect(disable).toMatchObject({ command: 'venue.live.disable', venue: 'binance', reason: 'enough' });
    expect(disable).not.toHaveProperty('approvalId');
    const venues = await as(trader.key, 'GET', '/v1/venues');
    expect(venues.statusCode).toBe(200);
    expect(venues.json()).toEqual({ items: [] }); // risk records them; it does not run here
  });
});
