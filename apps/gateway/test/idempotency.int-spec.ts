import { createHash, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { EntityManager } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { IdempotencyRepository } from '../src/modules/idempotency/idempotency.repository';
import { IdempotencyService } from '../src/modules/idempotency/idempotency.service';
import { canonicalJson } from '@desk/contracts';
import { AppError } from '@desk/platform';
import { holderKey, startGateway, type Gateway } from './gateway-harness';

describe('Idempotency-Key on mutating endpoints (real PostgreSQL)', () => {
  let gw: Gateway;
  let trader: string;
  let pg: Client;
  const order = { symbol: 'ETH/USDT', side: 'sell', type: 'limit', quantity: '0.5', price: '9999' };

  beforeAll(async () => {
    gw = await startGateway();
    trader = (await gw.issueKey(['trader'])).key;
    pg = new Client({ connectionString: gw.config.DATABASE_URL });
    await pg.connect();
  });

  afterAll(async () => {
    await gw.close();
    await pg?.end();
  });

  const submit = (key: string, idem: string, body: object = order) =>
    gw.app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: { authorization: `Bearer ${key}`, 'idempotency-key': idem },
      payload: body,
    });

  const ordersUnder = async (idem: string) =>
    (
      await pg.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM gateway.submissions WHERE idempotency_key = $1`,
        [idem],
      )
    ).rows[0]!.n;

  it('lets a burst of identical requests create exactly one order; the others replay it or are told it is in flight', async () => {
    const idem = randomUUID();
    const results = await Promise.all(Array.from({ length: 12 }, () => submit(trader, idem)));
    const ids = new Set(results.filter((r) => r.statusCode === 202).map((r) => r.json().id as string));
    expect(ids.size).toBe(1);
    for (const r of results) expect([202, 409]).toContain(r.statusCode);
    const inFlight = results.find((r) => r.statusCode === 409);
    if (inFlight) expect(inFlight.json().error.code).toBe('IDEMPOTENCY_KEY_IN_FLIGHT');
    expect(await ordersUnder(idem)).toBe(1);
    const later = await submit(trader, idem);
    expect(later.statusCode).toBe(202);
    expect(later.headers['idempotent-replayed']).toBe('true');
    expect(later.json().id).toBe([...ids][0]);
  });

  it('answers 409 while the first request with the key is still in flight, and 422 if the body differs', async () => {
    const idem = randomUUID();
    const me = (
      await gw.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${trader}` } })
    ).json();
    // The first request has claimed the key and is still working: its response is not stored yet.
    const requestHash = createHash('sha256')
      .update(`POST /v1/orders\n${canonicalJson(order)}`)
      .digest('hex');
    await gw.app
      .get(IdempotencyRepository)
      .claim(
        { actorId: me.operator.id, key: idem },
        { method: 'POST', path: '/v1/orders', requestHash },
        randomUUID(),
        30,
        24,
      );
    const duplicate = await submit(trader, idem);
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json().error.code).toBe('IDEMPOTENCY_KEY_IN_FLIGHT');
    expect((await submit(trader, idem, { ...order, price: '1' })).statusCode).toBe(422);
    expect(await ordersUnder(idem)).toBe(0);
  });

  it('refuses the same key with a different body (422) and changes nothing', async () => {
    const idem = randomUUID();
    expect((await submit(trader, idem)).statusCode).toBe(202);
    const other = await submit(trader, idem, { ...order, quantity: '0.6' });
    expect(other.statusCode).toBe(422);
    expect(other.json().error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await ordersUnder(idem)).toBe(1);
  });

  it('scopes keys per operator: two operators may use the same key', async () => {
    const idem = randomUUID();
    const other = (await gw.issueKey(['trader'])).key;
    const first = await submit(trader, idem);
    const second = await submit(other, idem);
    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(202);
    expect(second.json().id).not.toBe(first.json().id);
  });

  it('gives the key back when the request fails validation, so a corrected request can use it', async () => {
    const idem = randomUUID();
    expect((await submit(trader, idem, { ...order, symbol: 'NOPE/USDT' })).statusCode).toBe(400);
    expect((await submit(trader, idem)).statusCode).toBe(202);
  });

  it('honours a key on admin actions too: a replayed operator request or key registration happens once', async () => {
    const admin = { authorization: `Bearer ${gw.adminKey}`, 'idempotency-key': randomUUID() };
    const name = `idem-${randomUUID()}`;
    const op = await gw.app.inject({
      method: 'POST',
      url: '/v1/operators',
      headers: admin,
      payload: { name },
    });
    const again = await gw.app.inject({
      method: 'POST',
      url: '/v1/operators',
      headers: admin,
      payload: { name },
    });
    expect(op.statusCode).toBe(202);
    expect(again.statusCode).toBe(202);
    expect(again.json()).toMatchObject({
      approvalId: op.json().approvalId,
      operatorId: op.json().operatorId,
    });
    await gw.approveAll(op.json().approvalId as string);
    const keyHeaders = { authorization: `Bearer ${gw.adminKey}`, 'idempotency-key': randomUUID() };
    const holder = holderKey();
    const payload = { roles: ['viewer'], keyId: holder.keyId, digest: holder.digest };
    const url = `/v1/operators/${op.json().operatorId}/keys`;
    const issued = await gw.app.inject({ method: 'POST', url, headers: keyHeaders, payload });
    expect(issued.statusCode).toBe(201);
    const replay = await gw.app.inject({ method: 'POST', url, headers: keyHeaders, payload });
    expect(replay.statusCode).toBe(201);
    expect(replay.json()).toEqual(issued.json());
    const keys = await pg.query(`SELECT id FROM gateway.api_keys WHERE operator_id = $1`, [
      op.json().operatorId,
    ]);
    expect(keys.rows).toEqual([{ id: holder.keyId }]);
  });

  it('commits a burst of submissions with their own keys together: each accepted once, each key replaying its own order', async () => {
    const keys = Array.from({ length: 30 }, () => randomUUID());
    const results = await Promise.all(
      keys.map((idem, n) => submit(trader, idem, { ...order, price: `${9000 + n}` })),
    );
    for (const r of results) expect(r.statusCode).toBe(202);
    const ids = results.map((r) => r.json().id as string);
    expect(new Set(ids).size).toBe(keys.length);
    const rows = await pg.query<{ id: string; idempotency_key: string; price: string; tx: string }>(
      `SELECT id::text, idempotency_key, price::text, xmin::text AS tx FROM gateway.submissions
        WHERE idempotency_key = ANY($1)`,
      [keys],
    );
    expect(rows.rows).toHaveLength(keys.length);
    const byKey = new Map(rows.rows.map((r) => [r.idempotency_key, r]));
    keys.forEach((idem, n) => {
      expect(byKey.get(idem)).toMatchObject({ id: ids[n], price: `${9000 + n}` });
    });
    // Group commit happened: fewer transactions than submissions.
    expect(new Set(rows.rows.map((r) => r.tx)).size).toBeLessThan(keys.length);
    // Each key replays its own order, not a neighbour's from the same commit.
    const replays = await Promise.all(
      keys.map((idem, n) => submit(trader, idem, { ...order, price: `${9000 + n}` })),
    );
    replays.forEach((r, n) => {
      expect(r.headers['idempotent-replayed']).toBe('true');
      expect(r.json().id).toBe(ids[n]);
    });
  });

  /** Twelve requests of one actor sent at once through a group commit, each with its own key; `work` per request. */
  const groupOfTwelve = (
    path: string,
    work: (tx: EntityManager, n: number, key: string, actorId: string) => Promise<void>,
  ) => {
    const service = gw.app.get(IdempotencyService);
    const actorId = randomUUID();
    const keys = Array.from({ length: 12 }, () => randomUUID());
    const outcomes = Promise.allSettled(
      keys.map((key, n) =>
        service.execute(
          { actorId, key, required: true, method: 'POST', path, canonicalBody: { n }, groupCommit: true },
          async (tx) => {
            await work(tx, n, key, actorId);
            return { status: 202, body: { n } };
          },
        ),
      ),
    );
    return { actorId, keys, outcomes };
  };

  it('fails one request of a group commit alone: the others commit, its key is given back', async () => {
    const badAt = 4;
    const group = groupOfTwelve('/test/group', async (tx, n) => {
      await tx.query(`SELECT 1`);
      if (n === badAt) throw AppError.validation([{ field: 'n', reason: 'is the bad one' }]);
    });
    const { actorId, keys } = group;
    const outcomes = await group.outcomes;
    outcomes.forEach((o, n) => {
      if (n === badAt) {
        expect(o.status).toBe('rejected');
        expect((o as PromiseRejectedResult).reason).toBeInstanceOf(AppError);
      } else {
        expect(o).toEqual({ status: 'fulfilled', value: { status: 202, body: { n }, replayed: false } });
      }
    });
    const stored = await pg.query<{ key: string; response_status: number | null }>(
      `SELECT key, response_status FROM gateway.idempotency_keys WHERE actor_id = $1`,
      [actorId],
    );
    expect(stored.rows.map((r) => r.key).sort()).toEqual(keys.filter((_, n) => n !== badAt).sort());
    for (const r of stored.rows) expect(r.response_status).toBe(202);
  });

  it('a group commit whose one claim was taken over meanwhile stores no response for it, and the others all', async () => {
    const lostAt = 7;
    const group = groupOfTwelve('/test/group-lost', async (tx, n, key, actor) => {
      // As a retry after LOCK_SECONDS would: another claim token now holds this key.
      if (n === lostAt)
        await tx.query(
          `UPDATE gateway.idempotency_keys SET claim_token = gen_random_uuid() WHERE actor_id = $1 AND key = $2`,
          [actor, key],
        );
    });
    const { actorId, keys } = group;
    const outcomes = await group.outcomes;
    outcomes.forEach((o, n) => {
      if (n === lostAt) {
        expect(o.status).toBe('rejected');
        expect(String((o as PromiseRejectedResult).reason)).toMatch(/claim lost/);
      } else {
        expect(o).toEqual({ status: 'fulfilled', value: { status: 202, body: { n }, replayed: false } });
      }
    });
    const stored = await pg.query<{ key: string; response_status: number | null }>(
      `SELECT key, response_status FROM gateway.idempotency_keys WHERE actor_id = $1`,
      [actorId],
    );
    const byKey = new Map(stored.rows.map((r) => [r.key, r.response_status]));
    // (The take-over here was inside the failed transaction, so it rolled back with it and the key was given
    // back; either way no response is stored for it.)
    keys.forEach((key, n) => expect(byKey.get(key) ?? null).toBe(n === lostAt ? null : 202));
  });

  it('uses an expired key afresh, even one first used for a different request', async () => {
    const idem = randomUUID();
    expect((await submit(trader, idem)).statusCode).toBe(202);
    await pg.query(
      `UPDATE gateway.idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = $1`,
      [idem],
    );
    const again = await submit(trader, idem, { ...order, quantity: '0.7' });
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('false');
    expect(await ordersUnder(idem)).toBe(2);
  });
});
