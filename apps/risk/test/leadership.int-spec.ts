import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestingModule } from '@nestjs/testing';
import type { Worker } from 'bullmq';
import { recordSubmission, waitFor } from '@desk/testing';
import { ControlProcessor } from '../src/modules/control/control.processor';
import { IntentsProcessor } from '../src/modules/intents/intents.processor';
import { IntentsService } from '../src/modules/intents/intents.service';
import { NotLeaderError } from '../src/modules/leadership/not-leader.error';
import { RiskLeadership } from '../src/modules/leadership/risk-leadership.service';
import { ExecutionReportedProcessor } from '../src/modules/positions/execution-reported.processor';
import { RiskHarness } from './risk-harness';

/** The documented takeover bound for a lost lock session at RISK_LEADER_POLL_MS=100 (docs/adr/0015). */
const TAKEOVER_MS = 3000;

/**
 * Two risk instances on one database and one Redis prefix, as two deployments side by side would run
 * (docs/adr/0015): one writes, the other stands by. Each instance has its own connections (its own pool
 * and its own lock session), so PostgreSQL sees two separate writers.
 */
describe('risk: one writer at a time (two instances, real PostgreSQL and Redis)', () => {
  let h: RiskHarness;
  let first: TestingModule;
  let second: TestingModule;

  const role = (m: TestingModule) => m.get(RiskLeadership).role;
  const workers = (m: TestingModule): Worker[] =>
    [IntentsProcessor, ControlProcessor, ExecutionReportedProcessor].map((p) => m.get(p).worker);
  /** Consuming its queues: running and not paused. */
  const consuming = (m: TestingModule) => workers(m).map((w) => w.isRunning() && !w.isPaused());

  async function count(sql: string, params: unknown[] = []): Promise<number> {
    const r = await h.pg.query<{ n: number }>(sql, params);
    return r.rows[0]!.n;
  }

  beforeAll(async () => {
    h = await RiskHarness.create('riskleader', {
      RISK_LEADER_POLL_MS: '100',
      RISK_LEADER_SESSION_TIMEOUT_MS: '3000',
      RISK_MAX_ORDERS_PER_DAY: '5',
      RISK_MAX_SUBMIT_RATE_PER_SYMBOL: '1000',
      RISK_MAX_SUBMIT_RATE_TOTAL: '1000',
      RISK_MAX_PRICE_AGE_MS: '3600000',
      APPROVAL_NOTIONAL_THRESHOLD: '1000000',
    });
    first = h.module!;
    second = await h.start(); // the harness now drives the second instance; the first keeps running
    await h.publishPrices({ 'BTC/USDT': '65000' });
  });

  afterAll(async () => {
    await first?.close();
    await h?.close();
  });

  it('one instance leads and consumes; the other stands by with its workers not running', () => {
    expect([role(first), role(second)]).toEqual(['leader', 'standby']);
    expect(consuming(first)).toEqual([true, true, true]);
    expect(workers(second).map((w) => w.isRunning())).toEqual([false, false, false]);
  });

  it('a standby that tries to decide anyway (an overlapping writer) is refused by the fence; nothing is recorded', async () => {
    const intent = h.intent({ quantity: '0.01' });
    await recordSubmission(h.pg, intent);
    await expect(second.get(IntentsService).handle(intent)).rejects.toBeInstanceOf(NotLeaderError);
    expect(await count(`select count(*)::int as n from risk.intents where id = $1`, [intent.intentId])).toBe(
      0,
    );
  });

  it('twelve decisions racing each other (not one at a time off the queue) never let more than the day’s limit through', async () => {
    const intents = Array.from({ length: 12 }, () => h.intent({ quantity: '0.01' }));
    for (const i of intents) await recordSubmission(h.pg, i);
    const service = first.get(IntentsService);
    const outcomes = await Promise.all(intents.map((i) => service.handle(i)));
    expect(outcomes.every((o) => o.decided)).toBe(true);
    const rows = await h.pg.query<{ status: string; reason_code: string | null; n: number }>(
      `select status, reason_code, count(*)::int as n from risk.intents where id = any($1::uuid[])
        group by status, reason_code order by status`,
      [intents.map((i) => i.intentId)],
    );
    expect(rows.rows).toEqual([
      { status: 'ACCEPTED', reason_code: null, n: 5 },
      { status: 'REJECTED', reason_code: 'MAX_ORDERS_PER_DAY', n: 7 },
    ]);
  });

  it('a leader whose lock session dies stops at once; one instance leads again within the bound, and decides what was queued', async () => {
    const holder = await h.pg.query<{ pid: number }>(
      `select pid from pg_locks where locktype = 'advisory' and granted
          and database = (select oid from pg_database where datname = current_database())`,
    );
    expect(holder.rows).toHaveLength(1);
    await h.pg.query(`select pg_terminate_backend($1)`, [holder.rows[0]!.pid]);

    // The deposed leader stops consuming as soon as its connection reports the loss (no ping awaited).
    await waitFor(async () => (role(first) === 'standby' ? true : undefined), {
      timeoutMs: 1000,
      intervalMs: 10,
      what: 'the deposed leader to stand by',
    });
    expect(workers(first).map((w) => w.isPaused())).toEqual([true, true, true]);

    const leader = await waitFor(
      async () => {
        const roles = [role(first), role(second)];
        return roles.filter((r) => r === 'leader').length === 1 ? roles : undefined;
      },
      { timeoutMs: TAKEOVER_MS, intervalMs: 20, what: 'one instance to lead again' },
    );
    const [leading, standing] = leader[0] === 'leader' ? [first, second] : [second, first];
    expect(consuming(leading)).toEqual([true, true, true]);
    expect(consuming(standing)).toEqual([false, false, false]);

    // Nothing queued is lost across the change: the new leader decides it.
    const intent = await h.submit(h.intent({ quantity: '0.01' }));
    expect(await h.decided(intent.intentId)).toMatchObject({
      status: 'REJECTED',
      reason_code: 'MAX_ORDERS_PER_DAY',
    });
    expect(
      await count(`select count(*)::int as n from risk.intent_events where intent_id = $1`, [
        intent.intentId,
      ]),
    ).toBe(1);
  });
});
