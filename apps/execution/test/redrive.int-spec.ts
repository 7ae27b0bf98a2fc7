import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OrderSide, OrderType } from '@desk/contracts';
import { OutboxRedrive } from '@desk/platform';
import { ExecutionHarness } from './execution-harness';

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Nothing execution recorded is lost on the way to risk (no risk runs here, so nothing applies the reports):
 * a fill report whose job Redis lost is sent again by execution's sweep, exactly as first written, until
 * risk's receipt shows it applied; a cancel-all execution ran leaves the receipt risk's sweep looks for.
 */
describe('execution re-drives reports risk never applied (real PostgreSQL and Redis)', () => {
  let h: ExecutionHarness;
  const sweep = () => h.module!.get(OutboxRedrive).redrive();

  beforeAll(async () => {
    h = await ExecutionHarness.create('execredrive', {
      REDRIVE_AFTER_MS: '5000',
      REDRIVE_INTERVAL_MS: '600000',
      APPROVAL_NOTIONAL_THRESHOLD: '1000000',
    });
    await h.start();
    await h.publishPrice('BTC/USDT', '65000');
  });

  afterAll(async () => {
    await h?.close();
  });

  it('sends a lost fill report again, the same report, until risk has applied it', async () => {
    const job = await h.send(
      h.accepted({ symbol: 'BTC/USDT', side: OrderSide.Buy, type: OrderType.Market, quantity: '0.01' }),
    );
    const filled = await h.report(job.intentId, 'FILLED');
    const jobId = `${job.intentId}.FILLED.${filled.fill!.fillId}`;
    // Redis loses the report (a failover to a replica that had not caught up).
    await h.queues.executions.remove(jobId);
    expect(await h.queues.executions.getJobState(jobId)).toBe('unknown');
    expect(await sweep()).toBe(0); // younger than REDRIVE_AFTER_MS: still on its way
    await settle(5200);
    expect(await sweep()).toBeGreaterThanOrEqual(1);
    expect(await h.queues.executions.getJobState(jobId)).toBe('waiting');
    expect((await h.queues.executions.getJob(jobId))?.data).toEqual(filled);
    // Present now: nothing is sent twice.
    await h.queues.executions.remove(jobId);
    // Risk applies it (its receipt, risk.execution_reports): lost again, it is not sent again.
    await h.pg.query(
      `INSERT INTO risk.execution_reports (id, intent_id, status, is_error, at) VALUES ($1, $2, 'FILLED', false, now())`,
      [jobId, job.intentId],
    );
    await sweep();
    expect(await h.queues.executions.getJobState(jobId)).toBe('unknown');
    const rows = await h.pg.query<{ delivered: boolean }>(
      `SELECT delivered_at IS NOT NULL AS delivered FROM execution.outbox WHERE job_id = $1`,
      [jobId],
    );
    expect(rows.rows).toEqual([{ delivered: true }]);
  });

  it('records each cancel-all it ran, once, for the sweep of risk that sent it', async () => {
    const command = await h.sendCancelAll('drill: receipt');
    await h.cancelAllResult(command);
    const runs = await h.pg.query<{ command_id: string }>(
      `SELECT command_id FROM execution.cancel_all_receipts WHERE command_id = $1`,
      [command.commandId],
    );
    expect(runs.rows).toHaveLength(1);
  });
});
