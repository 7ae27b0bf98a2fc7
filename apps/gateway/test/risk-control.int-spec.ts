import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { QueueName } from '@desk/contracts';
import { waitFor } from '@desk/testing';
import { startGateway, type Gateway } from './gateway-harness';

describe('risk limits and trading state at the gateway (real PostgreSQL and Redis)', () => {
  let gw: Gateway;
  let riskAdmin: string;

  beforeAll(async () => {
    gw = await startGateway();
    riskAdmin = (await gw.issueKey(['risk-admin'])).key;
  });

  afterAll(() => gw.close());

  const as = (key: string, method: 'GET' | 'PUT', url: string, payload?: object) =>
    gw.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}` },
      ...(payload ? { payload } : {}),
    });

  const controlJobs = async (command: string) =>
    (await gw.queue(QueueName.Control).getJobs(['waiting', 'completed', 'active'], 0, 1000)).filter(
      (j) => j.data?.command === command,
    );

  it('shows the trading state and the limits', async () => {
    const state = await as(riskAdmin, 'GET', '/v1/trading-state');
    expect(state.statusCode).toBe(200);
    expect(state.json()).toMatchObject({
      state: expect.stringMatching(/^(ACTIVE|REDUCING|HALTED)$/),
      setBy: expect.any(Object),
    });
    const limits = (await as(riskAdmin, 'GET', '/v1/risk/limits')).json().items as {
      name: string;
      value: string;
    }[];
    expect(limits.map((l) => l.name)).toEqual(expect.arrayContaining(['max_order_notional', 'price_band']));
  });

  it('applies a change that lowers risk at once, and holds one that raises it for approval', async () => {
    const limits = (await as(riskAdmin, 'GET', '/v1/risk/limits')).json().items as {
      name: string;
      value: string;
    }[];
    const notional = limits.find((l) => l.name === 'max_order_notional')!.value;
    const lower = await as(riskAdmin, 'PUT', '/v1/risk/limits', {
      limits: { max_order_notional: '1' },
      reason: 'quiet day',
    });
    expect(lower.statusCode).toBe(202);
    expect(lower.json()).toMatchObject({
      status: 'applying',
      changes: [{ name: 'max_order_notional', old: notional, new: '1' }],
    });
    const job = await waitFor(async () =>
      (await controlJobs('limits.set')).find((j) => j.data.commandId === lower.json().commandId),
    );
    expect(job.data).toMatchObject({ limits: { max_order_notional: '1' }, reason: 'quiet day' });
    // Recorded with the job, where risk checks it before it applies anything (docs/adr/0010).
    const recorded: unknown[] = await gw.app
      .get(DataSource)
      .query(
        `select command, reason, limits, approval_id, actor_type from gateway.control_sources where command_id = $1`,
        [lower.json().commandId],
      );
    expect(recorded).toEqual([
      {
        command: 'limits.set',
        reason: 'quiet day',
        limits: { max_order_notional: '1' },
        approval_id: null,
        actor_type: 'operator',
      },
    ]);

    const raise = await as(riskAdmin, 'PUT', '/v1/risk/limits', {
      limits: { max_order_notional: '999999999', price_band: '0' },
      reason: 'big day',
    });
    expect(raise.statusCode).toBe(202);
    expect(raise.json()).toMatchObject({ status: 'pending_approval', approvalId: expect.any(String) });
    const approval = (await as(riskAdmin, 'GET', `/v1/approvals/${raise.json().approvalId}`)).json();
    expect(approval.context.raises).toEqual(['max_order_notional']);
    expect(
      (await controlJobs('limits.set')).some((j) => j.data.limits?.max_order_notional === '999999999'),
    ).toBe(false);
  });

  it('refuses unknown limits and missing reasons with a 400 naming the field', async () => {
    const unknown = await as(riskAdmin, 'PUT', '/v1/risk/limits', {
      limits: { leverage: '100' },
      reason: 'x',
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.details[0].field).toBe('limits.leverage');
    expect(
      (await as(riskAdmin, 'PUT', '/v1/risk/limits', { limits: { price_band: '0.01' } })).statusCode,
    ).toBe(400);
    const viewer = (await gw.issueKey(['viewer'])).key;
    expect(
      (await as(viewer, 'PUT', '/v1/risk/limits', { limits: { price_band: '0.01' }, reason: 'x' }))
        .statusCode,
    ).toBe(403);
  });
});
