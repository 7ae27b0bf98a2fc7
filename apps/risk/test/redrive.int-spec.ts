import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@desk/testing';
import { DecisionRedriveService } from '../src/modules/intents/decision-redrive.service';
import { RiskHarness } from './risk-harness';

/**
 * Nothing risk accepted is lost on the way to execution (no execution runs here, so nothing records it): an
 * accepted order whose job Redis lost is sent again by the sweep, once, and never while it is on its way.
 */
describe('risk re-drives accepted orders execution never recorded (real PostgreSQL and Redis)', () => {
  let h: RiskHarness;

  beforeAll(async () => {
    h = await RiskHarness.create('riskredrive', { REDRIVE_AFTER_MS: '5000', REDRIVE_INTERVAL_MS: '60000' });
    await h.publishPrices({ 'BTC/USDT': '65000' });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('sends an accepted order again when Redis lost its job', async () => {
    const i = await h.submit(h.intent({ quantity: '0.01' }));
    expect(await h.decided(i.intentId)).toMatchObject({ status: 'ACCEPTED' });
    const orders = h.queues.orders;
    await waitFor(() => orders.getJob(i.intentId), { what: 'order.accepted on the queue' });
    await orders.remove(i.intentId);
    const sweep = () => h.get(DecisionRedriveService).redrive();
    expect(await sweep()).toBe(0); // younger than REDRIVE_AFTER_MS
    await new Promise((r) => setTimeout(r, 5200));
    expect(await sweep()).toBe(1);
    expect(await orders.getJobState(i.intentId)).toBe('waiting');
    expect((await orders.getJob(i.intentId))?.data).toMatchObject({
      intentId: i.intentId,
      actor: i.actor,
      order: { symbol: 'BTC/USDT', quantity: '0.01' },
    });
    expect(await sweep()).toBe(0);
  });
});
