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

  const published = async (eventId: string) => (await h.audits((a) => a.eventId === eventId)).length;
  /** Waits for every event to be published once; then gives a stray one the relay's sweep to show up. */
  const expectPublished = async (wanted: AuditEvent[], never: AuditEvent[]) => {
    for (const e of wanted)
      await waitFor(async () => ((await published(e.eventId)) === 1 ? true : undefined), {
        what: `event ${e.eventId} published`,
      });
    await outbox.flush();
    await new Promise((r) => setTimeout(r, 600)); // two sweeps
    await outbox.flush();
    for (const e of never) expect(await published(e.eventId)).toBe(0);
  };

  it('publishes nothing of a transaction whose commit fails after its outbox rows were written', async () => {
    // A deferred constraint is checked by COMMIT itself: the outbox rows are written (just before it), then
    // the commit fails. Nothing of the transaction may reach a queue.
    await h.pg.query(`CREATE TABLE IF NOT EXISTS public.outbox_deferred (
      id text PRIMARY KEY,
      parent text REFERENCES public.outbox_deferred (id) DEFERRABLE INITIALLY DEFERRED)`);
    await h.pg.query(`GRANT ALL ON public.outbox_deferred TO PUBLIC`);
    const subject = randomUUID();
    const doomed = [event(subject, 1), event(subject, 2)];
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO public.outbox_deferred (id, parent) VALUES ($1, 'missing')`, [subject]);
        for (const e of doomed) await outbox.add(tx, JobName.AuditEvent, e);
      }),
    ).rejects.toThrow(/foreign key/);
    const next = event(randomUUID(), 1);
    await db.transaction((tx) => outbox.add(tx, JobName.AuditEvent, next));
    await outbox.flush();
    await expectPublished([next], doomed);
    expect(await rowsOf(subject)).toEqual([]);
  });

  it('keeps the jobs added before a nested transaction that rolls back, and only those', async () => {
    const subject = randomUUID();
    const [before, inside, after] = [1, 2, 3].map((n) => event(subject, n)) as [
      AuditEvent,
      AuditEvent,
      AuditEvent,
    ];
    await db.transaction(async (tx) => {
      await outbox.add(tx, JobName.AuditEvent, before);
      await expect(
        tx.transaction(async (nested) => {
          await outbox.add(nested, JobName.AuditEvent, inside);
          throw new Error('the nested change failed');
        }),
      ).rejects.toThrow('the nested change failed');
      await outbox.add(tx, JobName.AuditEvent, after);
    });
    expect((await rowsOf(subject)).map((r) => r.job_id)).toEqual([before.eventId, after.eventId]);
    await outbox.flush();
    await expectPublished([before, after], [inside]);
  });

  it('publishes the jobs of a nested transaction that commits only when the outer one does', async () => {
    const subject = randomUUID();
    const [outer, inner] = [1, 2].map((n) => event(subject, n)) as [AuditEvent, AuditEvent];
    let seenBeforeOuterCommit = -1;
    await db.transaction(async (tx) => {
      await outbox.add(tx, JobName.AuditEvent, outer);
      await tx.transaction((nested) => outbox.add(nested, JobName.AuditEvent, inner));
      await outbox.flush();
      await new Promise((r) => setTimeout(r, 300)); // a sweep, while the outer transaction is still open
      seenBeforeOuterCommit = (await published(outer.eventId)) + (await published(inner.eventId));
    });
    expect(seenBeforeOuterCommit).toBe(0);
    await outbox.flush();
    await expectPublished([outer, inner], []);
    expect((await rowsOf(subject)).map((r) => r.job_id)).toEqual([outer.eventId, inner.eventId]);
  });

  it('writes at once when there is no transaction', async () => {
    const subject = randomUUID();
    await outbox.add(db.manager, JobName.AuditEvent, event(subject, 1));
    expect(await rowsOf(subject)).toHaveLength(1);
  });
});
