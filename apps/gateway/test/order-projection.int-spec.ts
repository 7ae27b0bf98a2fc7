import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AUDIT_QUEUES,
  IntentSource,
  JobName,
  OrderSide,
  OrderStatus,
  OrderType,
  QueueName,
  SCHEMA_VERSION,
  ServiceName,
  type OrderUpdated,
} from '@desk/contracts';
import { waitFor, unbatched } from '@desk/testing';
import { OrderProjectionRepository } from '../src/modules/order-projection/order-projection.repository';
import { startGateway, type Gateway } from './gateway-harness';

/**
 * The gateway's one projection of every order, from the transitions its owners publish (risk from intent to
 * decision, execution from placement to fill). The owners' records are written here directly (as the
 * superuser) as risk and execution record them; the jobs are what they would publish.
 */
describe('order projection at the gateway (real PostgreSQL and Redis)', () => {
  let gw: Gateway;
  let pg: Client;
  const order = { symbol: 'BTC/USDT', side: OrderSide.Buy, type: OrderType.Market, quantity: '0.5' };

  beforeAll(async () => {
    gw = await startGateway();
    pg = new Client({ connectionString: gw.config.DATABASE_URL });
    await pg.connect();
  });

  afterAll(async () => {
    await gw?.close();
    await pg?.end();
  });

  /** Risk records an intent and a decision; returns the update risk publishes for it. */
  async function riskDecides(
    intentId: string,
    status: OrderStatus.Accepted | OrderStatus.Rejected | OrderStatus.PendingApproval,
    reasonCode: string | null = null,
  ): Promise<OrderUpdated> {
    await pg.query(
      `INSERT INTO risk.intents (id, source, actor_type, actor_id, symbol, side, type, quantity, status,
                                 reason_code, correlation_id, submitted_at)
       VALUES ($1, 'agent', 'service', 'agent-analysis', $2, $3, $4, $5, $6, $7, 'corr', now() - interval '1 second')
       ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, reason_code = EXCLUDED.reason_code`,
      [intentId, order.symbol, order.side, order.type, order.quantity, status, reasonCode],
    );
    const e = await pg.query<{ id: string; at: Date }>(
      `INSERT INTO risk.intent_events (intent_id, status, reason_code, reason, at)
       VALUES ($1, $2, $3, $4, now()) RETURNING id::text, at`,
      [intentId, status, reasonCode, reasonCode ? 'because' : null],
    );
    return {
      schemaVersion: SCHEMA_VERSION,
      correlationId: 'corr',
      intentId,
      owner: ServiceName.Risk,
      seq: e.rows[0]!.id,
      status,
      ...(reasonCode ? { reasonCode, detail: 'because' } : {}),
      at: e.rows[0]!.at.toISOString(),
      order,
      source: IntentSource.Agent,
      submittedAt: new Date(Date.now() - 1000).toISOString(),
    };
  }

  /** Execution records a transition (and for FILLED the fill); returns the update it publishes. */
  async function executionRecords(
    intentId: string,
    status: OrderStatus.Submitted | OrderStatus.Filled,
  ): Promise<OrderUpdated> {
    await pg.query(
      `INSERT INTO execution.orders
         (id, venue, symbol, side, type, quantity, status, correlation_id, client_order_id)
       VALUES ($1, 'paper', $2, $3, $4, $5, $6, 'corr', $7)
       ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status`,
      [intentId, order.symbol, order.side, order.type, order.quantity, status, intentId.replaceAll('-', '')],
    );
    const e = await pg.query<{ id: string; at: Date }>(
      `INSERT INTO execution.order_events (order_id, status, event_key, at) VALUES ($1, $2, $2, now())
       RETURNING id::text, at`,
      [intentId, status],
    );
    const at = e.rows[0]!.at.toISOString();
    let fill: OrderUpdated['fill'];
    if (status === OrderStatus.Filled) {
      fill = {
        fillId: `${intentId}-1`,
        price: '65000',
        quantity: '0.5',
        fee: '16.25',
        feeCurrency: 'USDT',
        at,
      };
      await pg.query(
        `INSERT INTO execution.fills (id, order_id, symbol, side, price, quantity, fee, fee_currency, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          fill.fillId,
          intentId,
          order.symbol,
          order.side,
          fill.price,
          fill.quantity,
          fill.fee,
          fill.feeCurrency,
          at,
        ],
      );
    }
    return {
      schemaVersion: SCHEMA_VERSION,
      correlationId: 'corr',
      intentId,
      owner: ServiceName.Execution,
      seq: e.rows[0]!.id,
      status,
      at,
      order,
      ...(fill ? { fill } : {}),
    };
  }

  const updates = () => gw.queue(QueueName.OrderUpdates);

  async function publish(u: OrderUpdated, jobId = `${u.intentId}.${u.owner}.${u.seq}`) {
    await updates().add(JobName.OrderUpdated, u, { jobId });
    return waitFor(
      async () => {
        const state = await updates().getJobState(jobId);
        return state === 'completed' || state === 'failed' ? updates().getJob(jobId) : undefined;
      },
      { what: `order.updated ${jobId} settled` },
    );
  }

  /** Waits for the gateway's `job.forged` audit event whose subject matches. */
  const forgeryAudited = (matches: (subject: string) => boolean) =>
    waitFor(
      async () => {
        const audit = unbatched(
          await gw
            .queue(AUDIT_QUEUES[ServiceName.Gateway])
            .getJobs(['waiting', 'completed', 'active', 'delayed']),
        );
        return audit.some((j) => j.data?.action === 'job.forged' && matches(String(j.data?.subject?.id)))
          ? true
          : undefined;
      },
      { what: 'job.forged audited' },
    );

  const view = async (id: string) =>
    (
      await gw.app.inject({
        method: 'GET',
        url: `/v1/orders/${id}`,
        headers: { authorization: `Bearer ${gw.adminKey}` },
      })
    ).json();

  it('shows an agent order from the first word of its owners, and its whole life: risk then execution', async () => {
    const id = randomUUID();
    await publish(await riskDecides(id, OrderStatus.Accepted));
    expect(await view(id)).toMatchObject({ id, source: 'agent', status: 'ACCEPTED' });
    await publish(await executionRecords(id, OrderStatus.Submitted));
    await publish(await executionRecords(id, OrderStatus.Filled));
    const filled = await view(id);
    expect(filled).toMatchObject({
      status: 'FILLED',
      filledQuantity: '0.5',
      averageFillPrice: '65000',
      fees: '16.25',
      fills: [{ id: `${id}-1`, price: '65000', quantity: '0.5', fee: '16.25', feeCurrency: 'USDT' }],
    });
    expect(filled.history.map((h: { status: string }) => h.status)).toEqual([
      'RECEIVED',
      'ACCEPTED',
      'SUBMITTED',
      'FILLED',
    ]);
    const list = await gw.app.inject({
      method: 'GET',
      url: '/v1/orders?source=agent&status=FILLED',
      headers: { authorization: `Bearer ${gw.adminKey}` },
    });
    expect(list.json().items.map((o: { id: string }) => o.id)).toContain(id);
  });

  it('never moves an order back when updates arrive out of order (execution before risk)', async () => {
    const id = randomUUID();
    const accepted = await riskDecides(id, OrderStatus.Accepted);
    const submitted = await executionRecords(id, OrderStatus.Submitted);
    const filled = await executionRecords(id, OrderStatus.Filled);
    await publish(filled);
    await publish(submitted);
    await publish(accepted);
    expect(await view(id)).toMatchObject({ status: 'FILLED', source: 'agent', filledQuantity: '0.5' });
    // A redelivered update adds nothing.
    const again = await publish(filled, `${id}.again`);
    expect(again?.returnvalue).toEqual({ applied: false });
    expect((await view(id)).history).toHaveLength(4);
  });

  it("a batch holding one order's updates out of order and twice leaves it where one at a time would", async () => {
    const ids = [randomUUID(), randomUUID()];
    const lives = await Promise.all(
      ids.map(async (id) => {
        const accepted = await riskDecides(id, OrderStatus.Accepted);
        const submitted = await executionRecords(id, OrderStatus.Submitted);
        const filled = await executionRecords(id, OrderStatus.Filled);
        return [filled, submitted, filled, accepted];
      }),
    );
    // One batch, as the projection's batcher writes it: the latest first, a copy, the earliest last.
    const repository = gw.app.get(OrderProjectionRepository);
    const applied = await repository.transaction((tx) => repository.applyMany(tx, lives.flat()));
    expect(applied).toEqual([true, true, false, true, true, true, false, true]);
    for (const id of ids) {
      const shown = await view(id);
      expect(shown).toMatchObject({ status: 'FILLED', source: 'agent', filledQuantity: '0.5' });
      expect(shown.history).toHaveLength(4);
      expect(shown.fills).toHaveLength(1);
    }
    // The same batch again (a redelivery of every job) adds nothing.
    const again = await repository.transaction((tx) => repository.applyMany(tx, lives.flat()));
    expect(again.every((a) => !a)).toBe(true);
    const events = await pg.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM gateway.order_events WHERE order_id = ANY($1::uuid[])`,
      [ids],
    );
    expect(events.rows[0]?.n).toBe('6');
  });

  it("shows risk's rejection of a held order (denied) with its reason code", async () => {
    const id = randomUUID();
    await publish(await riskDecides(id, OrderStatus.PendingApproval, 'APPROVAL_REQUIRED'));
    expect(await view(id)).toMatchObject({ status: 'PENDING_APPROVAL', reasonCode: 'APPROVAL_REQUIRED' });
    await publish(await riskDecides(id, OrderStatus.Rejected, 'APPROVAL_DENIED'));
    expect(await view(id)).toMatchObject({ status: 'REJECTED', reasonCode: 'APPROVAL_DENIED' });
  });

  it.each([
    [
      'a transition its owner never recorded',
      async (id: string) => ({ ...(await riskDecides(id, OrderStatus.Accepted)), seq: '999999999' }),
    ],
    [
      'a status other than the one recorded',
      async (id: string) => ({
        ...(await riskDecides(id, OrderStatus.Rejected, 'MAX_NOTIONAL_EXCEEDED')),
        status: OrderStatus.Accepted,
        reasonCode: undefined,
        detail: undefined,
      }),
    ],
    [
      'a fill execution never recorded',
      async (id: string) => {
        const u = await executionRecords(id, OrderStatus.Filled);
        return { ...u, fill: { ...u.fill!, price: '1' } };
      },
    ],
    [
      "another order's event (a real seq, of a different order)",
      async (id: string) => ({ ...(await riskDecides(randomUUID(), OrderStatus.Accepted)), intentId: id }),
    ],
    [
      "another order's fill",
      async (id: string) => {
        const own = await executionRecords(id, OrderStatus.Filled);
        const other = await executionRecords(randomUUID(), OrderStatus.Filled);
        return { ...own, fill: other.fill! };
      },
    ],
  ])('refuses a forged order.updated (%s): job.forged, nothing projected', async (_what, forge) => {
    const id = randomUUID();
    const forged: OrderUpdated = await forge(id);
    const job = await publish(JSON.parse(JSON.stringify(forged)) as OrderUpdated);
    expect(await job?.isFailed()).toBe(true);
    expect(job?.failedReason).toMatch(/unverified/);
    const rows = await pg.query(`SELECT 1 FROM gateway.orders WHERE id = $1`, [id]);
    expect(rows.rowCount).toBe(0);
    await forgeryAudited((subject) => subject.includes(id));
  });

  it('projects a burst of updates in batches: each once, the forged one refused alone', async () => {
    const ids = Array.from({ length: 20 }, () => randomUUID());
    const honest = await Promise.all(ids.map((id) => riskDecides(id, OrderStatus.Accepted)));
    const forgedId = randomUUID();
    const recorded = await riskDecides(forgedId, OrderStatus.Accepted);
    const forged: OrderUpdated = { ...recorded, status: OrderStatus.Rejected, reasonCode: 'MAX_NOTIONAL' };
    const all = [...honest.slice(0, 10), forged, ...honest.slice(10)];
    // One round trip, each update twice (a redelivery): the jobs wait together and go in batches.
    await updates().addBulk(
      all.flatMap((u) =>
        ['', '.again'].map((again) => ({
          name: JobName.OrderUpdated,
          data: u,
          opts: { jobId: `${u.intentId}.${u.owner}.${u.seq}${again}` },
        })),
      ),
    );
    const rows = await waitFor(
      async () => {
        const r = await pg.query<{ id: string; status: string; tx: string }>(
          `SELECT o.id, o.status, e.xmin::text AS tx FROM gateway.orders o
             JOIN gateway.order_events e ON e.order_id = o.id WHERE o.id = ANY($1::uuid[])`,
          [ids],
        );
        return r.rows.length === ids.length ? r.rows : undefined;
      },
      { what: 'every honest update projected' },
    );
    expect(rows.every((r) => r.status === 'ACCEPTED')).toBe(true);
    // Group commit happened: fewer transactions than orders.
    expect(new Set(rows.map((r) => r.tx)).size).toBeLessThan(ids.length);
    const forgedJob = await waitFor(
      async () => {
        const job = await updates().getJob(`${forgedId}.risk.${forged.seq}`);
        return job && (await job.isFailed()) ? job : undefined;
      },
      { what: 'the forged update refused' },
    );
    expect(forgedJob.failedReason).toMatch(/unverified/);
    const projected = await pg.query(`SELECT 1 FROM gateway.orders WHERE id = $1`, [forgedId]);
    expect(projected.rowCount).toBe(0);
  });

  it('projects a batch job (one relay round) like its updates one by one: a forged member refused alone, a member sent again applied once', async () => {
    const ids = Array.from({ length: 6 }, () => randomUUID());
    const honest = await Promise.all(ids.map((id) => riskDecides(id, OrderStatus.Accepted)));
    const recorded = await riskDecides(randomUUID(), OrderStatus.Accepted);
    const forged: OrderUpdated = { ...recorded, status: OrderStatus.Rejected, reasonCode: 'MAX_NOTIONAL' };
    // The first update already came alone (the relay regrouped after a crash, or the re-drive sweep sent it).
    await publish(honest[0]!);
    const batchId = randomUUID();
    const jobId = `${batchId}.batch`;
    await updates().add(
      JobName.OrderUpdateBatch,
      {
        schemaVersion: SCHEMA_VERSION,
        correlationId: `batch-${batchId}`,
        batchId,
        jobs: [...honest.slice(0, 3), forged, ...honest.slice(3)],
      },
      { jobId },
    );
    const job = await waitFor(
      async () => {
        const j = await updates().getJob(jobId);
        return j && ((await j.isCompleted()) || (await j.isFailed())) ? j : undefined;
      },
      { what: 'the batch settled' },
    );
    expect(job.returnvalue).toEqual({ done: 6, refused: 1 });
    for (const id of ids) expect(await view(id)).toMatchObject({ id, status: 'ACCEPTED' });
    expect((await view(ids[0]!)).history).toHaveLength(2); // RECEIVED, ACCEPTED: not twice
    const projected = await pg.query(`SELECT 1 FROM gateway.orders WHERE id = $1`, [forged.intentId]);
    expect(projected.rowCount).toBe(0);
    await forgeryAudited((subject) => subject === `order-updates/${jobId}#3`);
  });
});
