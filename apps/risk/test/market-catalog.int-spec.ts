import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { JobName, MARKET_CATALOG, OrderType, TimeInForce } from '@desk/contracts';
import {
  DEFAULT_JOB_OPTIONS,
  MarketCatalogService,
  SERVICE_DATABASE_ROLES,
  roleDatabaseUrl,
} from '@desk/platform';
import { finishedJob, recordSubmission, waitFor } from '@desk/testing';
import { RiskHarness } from './risk-harness';

interface Decision {
  status: string;
  reason_code: string | null;
  reason: string | null;
  notional: string | null;
  reference_price: string | null;
}

/**
 * Risk checks every intent against the venue's catalog as execution publishes it (execution.market_catalog),
 * with the same reason codes as the gateway's 400s: an agent's or a forged intent never passed the gateway.
 * The catalog rows are changed here as the database owner, as execution does when it loads its venue's markets.
 */
describe('risk checks intents against the venue market catalog (own database)', () => {
  let h: RiskHarness;
  let catalog: MarketCatalogService;

  beforeAll(async () => {
    h = await RiskHarness.create('riskcatalog', {
      MARKET_CATALOG_REFRESH_MS: '3600000',
      // An intent refused for want of a catalog is retried soon.
      JOB_RETRY_MAX_DELAY_MS: '200',
      APPROVAL_NOTIONAL_THRESHOLD: '1000000',
      RISK_MAX_POSITION_SHARE: '100',
      RISK_MAX_GROSS_EXPOSURE: '100000000',
    });
    await h.publishPrices({ 'BTC/USDT': '65000' });
    catalog = h.get(MarketCatalogService);
  });

  afterAll(async () => {
    await h?.close();
  });

  async function setBtc(m: { step: string; minQuantity: string; minNotional: string | null }): Promise<void> {
    await h.pg.query(
      `UPDATE execution.markets SET step_size = $1, min_quantity = $2, min_notional = $3, loaded_at = now()
        WHERE symbol = 'BTC/USDT'`,
      [m.step, m.minQuantity, m.minNotional],
    );
    expect(await catalog.refresh()).toBe(true);
  }

  async function resetBtc(): Promise<void> {
    const btc = MARKET_CATALOG.find((m) => m.symbol === 'BTC/USDT')!;
    await setBtc({ step: btc.stepSize, minQuantity: btc.minQuantity, minNotional: btc.minNotional });
  }

  async function decided(intentId: string): Promise<Decision> {
    return waitFor(
      async () => {
        const r = await h.pg.query<Decision>(
          `SELECT status, reason_code, reason, notional::text, reference_price::text FROM risk.intents
            WHERE id = $1`,
          [intentId],
        );
        return r.rows[0];
      },
      { what: `decision on ${intentId}` },
    );
  }

  it('rejects an intent off the lot size with LOT_SIZE_MISMATCH once the catalog says so', async () => {
    // The paper catalog's lot size (0.000001) takes 0.0015.
    const before = await h.submit(h.intent({ quantity: '0.0015' }));
    expect((await decided(before.intentId)).status).toBe('ACCEPTED');

    await setBtc({ step: '0.001', minQuantity: '0.002', minNotional: null });
    try {
      const off = await h.submit(h.intent({ quantity: '0.0015' }));
      expect(await decided(off.intentId)).toMatchObject({
        status: 'REJECTED',
        reason_code: 'LOT_SIZE_MISMATCH',
        reason: "quantity 0.0015 must be a multiple of BTC/USDT's lot size 0.001",
      });
      const small = await h.submit(h.intent({ quantity: '0.001' }));
      expect((await decided(small.intentId)).reason_code).toBe('QUANTITY_BELOW_MINIMUM');
      const on = await h.submit(h.intent({ quantity: '0.002' }));
      expect((await decided(on.intentId)).status).toBe('ACCEPTED');
    } finally {
      await resetBtc();
    }
  });

  it('values a market order at its reference price against the minimum notional', async () => {
    await setBtc({ step: '0.000001', minQuantity: '0.000001', minNotional: '1000' });
    try {
      // 0.01 at the last price 65000 is 650.
      const low = await h.submit(h.intent({ quantity: '0.01' }));
      expect(await decided(low.intentId)).toEqual({
        status: 'REJECTED',
        reason_code: 'NOTIONAL_BELOW_MINIMUM',
        reason: "notional 650 is below BTC/USDT's minimum 1000 (0.01 at market price 65000)",
        notional: '650',
        reference_price: '65000',
      });
      const enough = await h.submit(h.intent({ quantity: '0.02' }));
      expect((await decided(enough.intentId)).status).toBe('ACCEPTED');
    } finally {
      await resetBtc();
    }
  });

  it('records an IOC limit order’s time in force and shows it to execution in risk.order_decisions', async () => {
    const i = await h.submit(
      h.intent({ type: OrderType.Limit, quantity: '0.01', price: '65000', timeInForce: TimeInForce.Ioc }),
    );
    expect((await decided(i.intentId)).status).toBe('ACCEPTED');
    const accepted = await waitFor(() => h.queues.orders.getJob(i.intentId), { what: 'orders job' });
    expect(accepted.name).toBe(JobName.OrderAccepted);
    expect(accepted.data.order).toEqual(i.order);

    const execution = new Client({
      connectionString: roleDatabaseUrl(h.config.DATABASE_URL, SERVICE_DATABASE_ROLES.execution),
    });
    await execution.connect();
    try {
      const { rows } = await execution.query(
        `SELECT decision, time_in_force, post_only FROM risk.order_decisions WHERE intent_id = $1`,
        [i.intentId],
      );
      expect(rows).toEqual([{ decision: 'ACCEPTED', time_in_force: 'IOC', post_only: false }]);
    } finally {
      await execution.end();
    }

    // Post-only (GTC) is kept too.
    const p = await h.submit(
      h.intent({ type: OrderType.Limit, quantity: '0.01', price: '65000', postOnly: true }),
    );
    expect((await decided(p.intentId)).status).toBe('ACCEPTED');
    const { rows } = await h.pg.query(
      `SELECT time_in_force, post_only FROM risk.order_decisions WHERE intent_id = $1`,
      [p.intentId],
    );
    expect(rows).toEqual([{ time_in_force: null, post_only: true }]);
  });

  it('refuses an intent claiming IOC that the gateway recorded without it', async () => {
    const i = h.intent({
      type: OrderType.Limit,
      quantity: '0.01',
      price: '65000',
      timeInForce: TimeInForce.Ioc,
    });
    await recordSubmission(h.pg, { ...i, order: { ...i.order, timeInForce: undefined } });
    await h.queues.intents.add(JobName.IntentSubmitted, i, { jobId: i.intentId });
    const failed = await finishedJob(h.queues.intents, i.intentId, 'failed');
    expect(failed.failedReason).toMatch(/order\.timeInForce: IOC ≠ recorded \(none\)/);
    const { rows } = await h.pg.query(`SELECT 1 FROM risk.intents WHERE id = $1`, [i.intentId]);
    expect(rows).toEqual([]);
  });

  it('decides nothing while the catalog is empty (the intent is retried), and decides once it is back', async () => {
    const saved = await h.pg.query(`SELECT * FROM execution.markets`);
    await h.pg.query(`DELETE FROM execution.markets`);
    expect(await catalog.refresh()).toBe(true);
    // As the gateway's outbox sends it: retried while an infrastructure failure lasts.
    const i = h.intent({ quantity: '0.01' });
    await recordSubmission(h.pg, i);
    await h.queues.intents.add(JobName.IntentSubmitted, i, { ...DEFAULT_JOB_OPTIONS, jobId: i.intentId });
    try {
      const retried = await waitFor(
        async () => {
          const job = await h.queues.intents.getJob(i.intentId);
          return job && job.attemptsMade >= 2 ? job : undefined;
        },
        { what: 'a failed attempt' },
      );
      expect(retried.failedReason).toMatch(/market catalog .* is empty/);
      const { rows } = await h.pg.query(`SELECT 1 FROM risk.intents WHERE id = $1`, [i.intentId]);
      expect(rows).toEqual([]);
    } finally {
      for (const r of saved.rows as Record<string, unknown>[]) {
        const columns = Object.keys(r);
        await h.pg.query(
          `INSERT INTO execution.markets (${columns.join(', ')}) VALUES (${columns.map((_, n) => `$${n + 1}`).join(', ')})`,
          Object.values(r),
        );
      }
      await catalog.refresh();
    }
    expect((await decided(i.intentId)).status).toBe('ACCEPTED');
  });
});
