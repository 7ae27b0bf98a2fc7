import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ControlCommandKind, JobName, OrderSide, type ControlCommand } from '@desk/contracts';
import { finishedJob, recordControlRequest } from '@desk/testing';
import { RiskHarness, RISK_ADMIN, TRADER } from './risk-harness';

/**
 * The attack (docs/adr/0010): whoever can write to Redis adds a kill with flatten straight to the control
 * queue (risk would halt the desk and close every position), or a command the gateway did issue with
 * other parameters. Risk applies only commands the gateway recorded exactly so (gateway.control_sources);
 * a forgery changes nothing and is audited as `job.forged`.
 */
describe('risk refuses control commands the gateway did not issue (own database)', () => {
  let h: RiskHarness;

  beforeAll(async () => {
    h = await RiskHarness.create('riskforgedctl', { TRADING_SYMBOLS: 'BTC/USDT,ETH/USDT' });
    await h.publishPrices({ 'BTC/USDT': '65000', 'ETH/USDT': '3200' });
    await h.filled('BTC/USDT', OrderSide.Buy, '0.3', '64000'); // a position a flatten would close
  });

  afterAll(async () => {
    await h?.close();
  });

  /** Adds a command to the control queue as an attacker with Redis access would; waits until it failed. */
  async function forge(c: ControlCommand, jobId = c.commandId) {
    await h.queues.control.add(JobName.ControlCommand, c, { jobId });
    return finishedJob(h.queues.control, jobId, 'failed');
  }

  async function forgedAudit(jobId: string) {
    const [event] = await h.auditsEventually(
      (e) => e.action === 'job.forged' && e.subject.id === `control/${jobId}`,
    );
    return event;
  }

  async function nothingApplied(c: ControlCommand): Promise<void> {
    expect(await h.tradingState()).toMatchObject({ state: 'ACTIVE' });
    const received = await h.pg.query(`select 1 from risk.control_commands where id = $1`, [c.commandId]);
    expect(received.rowCount).toBe(0);
    await h.settle();
    expect(await h.jobs(h.queues.orders, JobName.OrdersCancelAll)).toHaveLength(0);
    expect(await h.jobs(h.queues.orders, JobName.OrderAccepted)).toHaveLength(0);
  }

  it('a kill with flatten the gateway never issued halts nothing, closes nothing, and is audited', async () => {
    const forged = h.command(ControlCommandKind.Kill, { reason: 'forged panic', flatten: true });
    const failed = await forge(forged);

    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/the gateway issued no control command/);
    await nothingApplied(forged);
    const event = await forgedAudit(forged.commandId);
    expect(event).toMatchObject({
      actor: { type: 'service', id: 'risk' },
      payload: {
        queue: 'control',
        jobName: 'control.command',
        jobId: forged.commandId,
        reason: expect.stringContaining(forged.commandId),
      },
    });
    expect(event?.payload).not.toHaveProperty('flatten');
  });

  it('a kill the gateway issued without flatten cannot be replayed with flatten, nor in another name', async () => {
    const issued = h.command(ControlCommandKind.Kill, { reason: 'halt only' });
    await recordControlRequest(h.pg, issued);

    const withFlatten = await forge({ ...issued, flatten: true }, `${issued.commandId}-flatten`);
    expect(withFlatten.failedReason).toMatch(/flatten: true ≠ recorded false/);
    const otherName = await forge({ ...issued, actor: TRADER }, `${issued.commandId}-actor`);
    expect(otherName.failedReason).toMatch(/actor\.id: .* ≠ recorded/);
    await nothingApplied(issued);
    await forgedAudit(`${issued.commandId}-flatten`);
    await forgedAudit(`${issued.commandId}-actor`);
  });

  it('limits are compared as decimals: another value is refused, the same value written otherwise applies', async () => {
    const issued = h.command(ControlCommandKind.SetLimits, {
      reason: 'lower the order cap',
      limits: { max_order_notional: '4000.50' },
    });
    await recordControlRequest(h.pg, issued);

    const lower = await forge(
      { ...issued, limits: { max_order_notional: '1' } },
      `${issued.commandId}-lower`,
    );
    expect(lower.failedReason).toMatch(/limits\.max_order_notional: 1 ≠ recorded 4000\.50/);
    await forgedAudit(`${issued.commandId}-lower`);
    const cap = await h.pg.query(`select value::text from risk.limits where name = 'max_order_notional'`);
    expect(cap.rows[0]).not.toEqual({ value: '1' });

    await h.queues.control.add(
      JobName.ControlCommand,
      { ...issued, limits: { max_order_notional: '4000.5' } },
      { jobId: issued.commandId },
    );
    const applied = await finishedJob(h.queues.control, issued.commandId, 'completed');
    expect(applied.returnvalue).toEqual({ command: 'limits.set', applied: true });
    const after = await h.pg.query(`select value::text from risk.limits where name = 'max_order_notional'`);
    expect(after.rows[0]).toEqual({ value: '4000.5' });
  });

  it('a kill with flatten the gateway recorded halts the desk and closes the position', async () => {
    const kill = h.command(ControlCommandKind.Kill, { reason: 'genuine outage', flatten: true });
    expect((await h.send(kill)).returnvalue).toEqual({ command: 'kill', applied: true, closingOrders: 1 });
    expect(await h.tradingState()).toMatchObject({
      state: 'HALTED',
      reason: 'genuine outage',
      set_by_id: RISK_ADMIN.id,
    });
    await h.jobsEventually(h.queues.orders, JobName.OrdersCancelAll, 1);
    const recorded = await h.pg.query(
      `select actor_id, reason_code, reason from risk.cancel_all_sources where command_id = $1`,
      [kill.commandId],
    );
    expect(recorded.rows).toEqual([
      { actor_id: RISK_ADMIN.id, reason_code: 'TRADING_HALTED', reason: 'genuine outage' },
    ]);
  });
});
