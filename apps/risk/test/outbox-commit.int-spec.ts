import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { AuditAction, JobName, SCHEMA_VERSION, type AuditEvent } from '@desk/contracts';
import { Outbox } from '@desk/platform';
import { waitFor } from '@desk/testing';
import { RiskHarness } from './risk-harness';

/**
 * docs/adr/0024: the outbox rows a transaction adds are written in one statement just before it commits.
 * What must not change: they exist exactly when the transaction's change does, in the order they were added,
 * and each is published.
 */
describe("the outbox writes a transaction's jobs as it commits (real PostgreSQL and Redis)", () => {
  let h: RiskHarness;
  let db: DataSource;
  let outbox: Outbox;

  beforeAll(async () => {
    h = await RiskHarness.create('outboxcommit');
    db = h.get(DataSource);
    outbox = h.get(Outbox);
  });

  afterAll(async () => {
    await h?.close();
  });

  const event = (subject: string, n: number): AuditEvent => ({
    schemaVersion: SCHEMA_VERSION,
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    actor: { type: 'service', id: 'risk' },
    action: AuditAction.RiskLimitsChanged,
    subject: { type: 'test', id: subject },
    payload: { n },
    correlationId: subject,
  });
  const rowsOf = async (subject: string) =>
    (
      await h.pg.query<{ id: string; job_id: string }>(
        `SELECT id::text, job_id FROM risk.outbox WHERE payload->'subject'->>'id' = $1 ORDER BY id`,
        [subject],
      )
    ).rows;

  it('writes every job of a transaction when it commits, in the order added, and publishes each', async () => {
    const subject = randomUUID();
    const events = [1, 2, 3, 4, 5].map((n) => event(subject, n));
    let seenInside: number | undefined;
    await db.transaction(async (tx) => {
      for (const e of events) await outbox.add(tx, JobName.AuditEvent, e);
      // Not yet written: nothing a reader could see before the commit, not even this transaction.
      seenInside = (
        await tx.query(`SELECT count(*)::int AS n FROM risk.outbox WHERE payload->'subject'->>'id' = $1`, [
          subject,
        ])
      )[0].n;
    });
    expect(seenInside).toBe(0);
    const rows = await rowsOf(subject);
    expect(rows.map((r) => r.job_id)).toEqual(events.map((e) => e.eventId));
    await outbox.flush();
    for (const e of events)
      await waitFor(
        async () => {
          const inRedis = (await h.audits((a) => a.eventId === e.eventId)).length;
          return inRedis === 1 ? true : undefined;
        },
        { what: `event ${e.eventId} published` },
      );
  });

  it('writes nothing for a transaction that rolls back, and the next transaction only its own', async () => {
    const failed = randomUUID();
    await expect(
      db.transaction(async (tx) => {
        await outbox.add(tx, JobName.AuditEvent, event(failed, 1));
        await outbox.add(tx, JobName.AuditEvent, event(failed, 2));
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    const next = randomUUID();
    await db.transaction((tx) => outbox.add(tx, JobName.AuditEvent, event(next, 1)));
    expect(await rowsOf(failed)).toEqual([]);
    expect(await rowsOf(next)).toHaveLength(1);
  });

  it('rolls the whole transaction back when its outbox rows cannot be written', async () => {
    const subject = randomUUID();
    // Stands for the transaction's own change.
    await h.pg.query(`CREATE TABLE IF NOT EXISTS public.outbox_probe (id text PRIMARY KEY)`);
    await h.pg.query(`GRANT ALL ON public.outbox_probe TO PUBLIC`);
    const e = event(subject, 1);
    // The outbox write fails at commit time (as a lost connection or a full disk would make it): the payload
    // passes the job's contract but PostgreSQL's jsonb refuses its NUL character.
    const bad = { ...e, payload: { text: 'nul \u0000 inside' } };
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO public.outbox_probe (id) VALUES ($1)`, [subject]);
        await outbox.add(tx, JobName.AuditEvent, bad);
      }),
    ).rejects.toThrow(/unsupported Unicode escape sequence/);
    expect((await h.pg.query(`SELECT 1 FROM public.outbox_probe WHERE id = $1`, [subject])).rowCount).toBe(0);
    expect(await rowsOf(subject)).toEqual([]);
  });

  it("publishes a row this process never wrote (another replica's, or one a crash left) within the relay's sweep", async () => {
    const subject = randomUUID();
    const e = event(subject, 1);
    // Written behind this process's back: no commit of its own points its relay there.
    await h.pg.query(`INSERT INTO risk.outbox (job_name, job_id, payload) VALUES ($1, $2, $3::jsonb)`, [
      JobName.AuditEvent,
      e.eventId,
      JSON.stringify(e),
    ]);
    // Rounds after commits of its own read only from its own rows on; the sweep (every 250 ms) reads all.
    await db.transaction((tx) => outbox.add(tx, JobName.AuditEvent, event(randomUUID(), 1)));
    await outbox.flush();
    await waitFor(
      async () => ((await h.audits((a) => a.eventId === e.eventId)).length === 1 ? true : undefined),
      { what: 'the foreign row published by the sweep' },
    );
    const rows = await h.pg.query<{ published: boolean }>(
      `SELECT published_at IS NOT NULL AS published FROM risk.outbox WHERE job_id = $1`,
      [e.eventId],
    );
    expect(rows.rows).toEqual([{ published: true }]);
  });

  it('writes at once when there is no transaction', async () => {
    const subject = randomUUID();
    await outbox.add(db.manager, JobName.AuditEvent, event(subject, 1));
    expect(await rowsOf(subject)).toHaveLength(1);
  });
});
