import type { TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { JobName, QueueName, SCHEMA_VERSION } from '@desk/contracts';
import { finishedJob, waitFor } from '@desk/testing';
import { AuditLogRepository } from '../src/modules/audit-log/audit-log.repository';
import { AuditHarness, auditEvent, events } from './audit-harness';

describe('audit service consuming the audit queue (real Redis and PostgreSQL)', () => {
  let h: AuditHarness;
  let service: TestingModule | undefined;

  beforeAll(async () => {
    h = await AuditHarness.create();
    service = await h.start();
  });

  afterAll(async () => {
    await service?.close();
    await h.close();
  });

  it('records an event once even when the same event is delivered twice', async () => {
    const e = auditEvent();
    await h.queue.add(JobName.AuditEvent, e, { jobId: `${e.eventId}-a` });
    await h.queue.add(JobName.AuditEvent, e, { jobId: `${e.eventId}-b` });
    const rows = await waitFor(async () => {
      const r = await h.pg.query(
        'select action, payload, subject_id from audit.audit_events where event_id = $1',
        [e.eventId],
      );
      const done = await h.queue.getJobCounts('completed');
      return r.rowCount === 1 && (done.completed ?? 0) >= 2 ? r.rows : undefined;
    });
    expect(rows).toEqual([
      { action: 'order.accepted', payload: '{"notional":"1234.5"}', subject_id: e.subject.id },
    ]);
    const second = await h.queue.getJob(`${e.eventId}-b`);
    const first = await h.queue.getJob(`${e.eventId}-a`);
    expect([first?.returnvalue, second?.returnvalue]).toEqual(
      expect.arrayContaining([{ recorded: true }, { recorded: false }]),
    );
  });

  it('fails a malformed job terminally and records why', async () => {
    const job = await h.queue.add(JobName.AuditEvent, {
      schemaVersion: SCHEMA_VERSION,
      eventId: 'not-a-uuid',
    });
    const failed = await finishedJob(h.queue, String(job.id), 'failed');
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/eventId/);
    const rejection = await waitFor(async () => {
      const r = await h.pg.query(
        `select payload from audit.audit_events where action = 'job.rejected' and subject_id = $1`,
        [`${QueueName.Audit}/${job.id}`],
      );
      return r.rows[0] as { payload: string } | undefined;
    });
    expect(JSON.parse(rejection.payload)).toMatchObject({
      queue: 'audit',
      reason: expect.stringMatching(/eventId/),
    });
  });

  it('fails an event PostgreSQL cannot store alone, and records the rest of its batch', async () => {
    const bad = auditEvent({ correlationId: 'nul\u0000inside' });
    const good = events(5);
    await h.send([...good.slice(0, 2), bad, ...good.slice(2)]);
    await waitFor(async () => ((await h.stored(good.map((e) => e.eventId))) === 5 ? true : undefined));
    const job = await finishedJob(h.queue, bad.eventId, 'failed');
    expect(job.failedReason).toMatch(/NUL/);
    expect(job.attemptsMade).toBe(1);
    expect(await h.verify()).toMatchObject({ ok: true });
  });

  it('loses nothing while the service is stopped and records nothing twice when it restarts', async () => {
    const all = events(300);
    const ids = all.map((e) => e.eventId);
    // Events keep arriving while the running service is stopped part-way …
    let stopped = false;
    const producing = (async () => {
      for (let i = 0; i < all.length; i += 10) {
        await h.send(all.slice(i, i + 10));
        await new Promise((r) => setTimeout(r, 5));
        // Keep the last 100 until the service is down, so some surely arrive while it is.
        if (i === 190) await waitFor(async () => (stopped ? true : undefined));
      }
    })();
    await waitFor(async () => ((await h.stored(ids.slice(0, 50))) === 50 ? true : undefined));
    await service!.close();
    service = undefined;
    stopped = true;
    await producing;
    const whileDown = await h.pg.query(
      `select count(*)::int as n from audit.audit_events where event_id = any($1::uuid[])`,
      [ids],
    );
    expect(whileDown.rows[0].n).toBeLessThanOrEqual(200);
    expect(await h.queue.getWaitingCount()).toBeGreaterThanOrEqual(100);

    // … and a new instance records every one exactly once.
    service = await h.start();
    expect(
      await waitFor(() => h.stored(ids).then((n) => (Number.isNaN(n) ? undefined : n)), {
        timeoutMs: 30_000,
      }),
    ).toBe(300);

    // Re-delivering every event (a producer replaying after a crash) adds nothing.
    const completed = async () => (await h.queue.getJobCounts('completed')).completed ?? 0;
    const before = await completed();
    await h.queue.addBulk(
      all.map((e) => ({ name: JobName.AuditEvent, data: e, opts: { jobId: `${e.eventId}-again` } })),
    );
    await waitFor(async () => ((await completed()) >= before + 300 ? true : undefined), {
      timeoutMs: 30_000,
    });
    expect((await h.queue.getJob(`${all[7]!.eventId}-again`))?.returnvalue).toEqual({ recorded: false });
    expect(await h.stored(ids)).toBe(300);

    const result = await h.verify();
    expect(result).toMatchObject({ ok: true });
    const count = await h.pg.query(
      `select count(*)::text as n, max(seq)::text as max from audit.audit_events`,
    );
    expect(result.ok && result.head.seq).toBe(count.rows[0].max);
    expect(count.rows[0].n).toBe(count.rows[0].max); // gap-free: seq 1..n
    // The stopped instance signed its last head on the way down.
    expect(result.ok && result.latestCheckpoint).not.toBeNull();
  });

  it('keeps the chain gap-free and valid with two instances appending at once', async () => {
    const second = await h.start({ AUDIT_BATCH_SIZE: '25', AUDIT_BATCH_WAIT_MS: '2' });
    const appended = [0, 0];
    for (const [i, ref] of [service!, second].entries()) {
      const repo = ref.get(AuditLogRepository);
      const append = repo.appendBatch.bind(repo);
      repo.appendBatch = async (batch) => {
        appended[i]! += batch.length;
        return append(batch);
      };
    }
    try {
      const all = events(600);
      for (let i = 0; i < all.length; i += 50) await h.send(all.slice(i, i + 50));
      expect(
        await waitFor(
          () => h.stored(all.map((e) => e.eventId)).then((n) => (Number.isNaN(n) ? undefined : n)),
          {
            timeoutMs: 30_000,
          },
        ),
      ).toBe(600);
      expect(appended[0]).toBeGreaterThan(0);
      expect(appended[1]).toBeGreaterThan(0);
      const result = await h.verify();
      expect(result).toMatchObject({ ok: true });
      const count = await h.pg.query(
        `select count(*)::text as n, max(seq)::text as max from audit.audit_events`,
      );
      expect(count.rows[0].n).toBe(count.rows[0].max);
    } finally {
      await second.close();
    }
  });
});
