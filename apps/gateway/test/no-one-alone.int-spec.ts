import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { QueueName } from '@desk/contracts';
import { waitFor, unbatched } from '@desk/testing';
import { digestOf, keyIdOf } from '../src/modules/access/api-key';
import { criticalOrder, holderKey, startGateway, type Gateway } from './gateway-harness';

/**
 * The two-man rule against one person acting alone (docs/adr/0011): the admin who tries to mint approvers,
 * to hold someone else's key, or to approve through keys granted while the desk was being set up.
 * This file's desk starts in setup (its own database), so the setup phase is tried from its first step.
 */
describe('no one alone: setup, operators and key grants under the two-man rule (real PostgreSQL and Redis)', () => {
  let gw: Gateway;

  beforeAll(async () => {
    gw = await startGateway({}, undefined, { setup: 'open' });
  });

  afterAll(async () => {
    await gw.close();
  });

  const as = (key: string, method: 'GET' | 'POST', url: string, payload?: object) =>
    gw.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}` },
      ...(payload ? { payload } : {}),
    });

  const auditEvents = async (action: string, subjectId: string) =>
    waitFor(
      async () => {
        const jobs = unbatched(
          await gw.queue(QueueName.AuditGateway).getJobs(['waiting', 'completed', 'active'], 0, 5000),
        );
        const found = jobs.filter((j) => j.data?.action === action && j.data?.subject?.id === subjectId);
        return found.length ? found.map((j) => j.data as { actor: object; payload: object }) : undefined;
      },
      { what: `${action} about ${subjectId}` },
    );

  const me = (key: string) => gw.app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${key}` } });

  it('runs setup as an explicit phase: nothing approved while it is open, closed once, audited, shown in /v1/me', async () => {
    expect((await me(gw.adminKey)).json().setup).toMatchObject({ phase: 'bootstrap', closedAt: null });
    // A second gateway instance keeps the phase in memory (CredentialCache) until the close is announced.
    const replica = await startGateway({}, { prefix: gw.prefix, adminKey: gw.adminKey });
    const replicaSetup = async () =>
      (
        await replica.app.inject({ url: '/v1/setup', headers: { authorization: `Bearer ${gw.adminKey}` } })
      ).json<{ phase: string }>();
    expect((await replicaSetup()).phase).toBe('bootstrap');
    // During setup the admin creates operators and grants keys at once (there is nobody to approve yet) ...
    const trader = await gw.issueKey(['trader']);
    const approver = await gw.issueKey(['approver']);
    const granted = await auditEvents('key.created', approver.keyId);
    expect(granted[0]!.payload).toMatchObject({ roles: ['approver'], bootstrap: true });
    // ... and so no approval counts: approvers minted alone can release nothing.
    const { approvalId } = await criticalOrder(gw, trader.operatorId);
    const early = await as(approver.key, 'POST', `/v1/approvals/${approvalId}/approve`);
    expect(early.statusCode).toBe(409);
    expect(early.json().error.message).toMatch(/still in setup/);
    expect((await as(gw.adminKey, 'GET', `/v1/approvals/${approvalId}`)).json()).toMatchObject({
      status: 'pending',
      approvals: [],
    });

    // Closing takes an admin, and enough approvers besides the closer to approve what the closer asks.
    expect((await as(trader.key, 'POST', '/v1/setup/close')).statusCode).toBe(403);
    const [a, b] = gw.approverKeys;
    const ids = await Promise.all([a!, b!].map(async (k) => (await me(k)).json().operator.id as string));
    await Promise.all(
      ids.map((id) =>
        gw.app.inject({
          method: 'POST',
          url: `/v1/operators/${id}/disable`,
          headers: { authorization: `Bearer ${gw.adminKey}` },
        }),
      ),
    );
    // Two approver operators were made for this file and then disabled: only `approver` is left.
    const tooFew = await as(gw.adminKey, 'POST', '/v1/setup/close');
    expect(tooFew.statusCode).toBe(409);
    expect(tooFew.json().error.message).toMatch(
      /2 operator\(s\) other than you hold an active approver key; 1 do/,
    );
    const second = await gw.issueKey(['approver']);
    // The replica reads the phase again once the key grant's announcement has landed, and keeps it.
    await new Promise((r) => setTimeout(r, 200));
    expect((await replicaSetup()).phase).toBe('bootstrap');
    const closed = await as(gw.adminKey, 'POST', '/v1/setup/close');
    expect(closed.statusCode).toBe(200);
    expect(closed.json()).toMatchObject({ phase: 'operational', closedBy: expect.any(String) });
    expect((await as(gw.adminKey, 'POST', '/v1/setup/close')).json().closedAt).toBe(closed.json().closedAt);
    expect((await me(trader.key)).json().setup).toMatchObject({ phase: 'operational' });
    try {
      await waitFor(async () => ((await replicaSetup()).phase === 'operational' ? true : undefined), {
        timeoutMs: 1000,
        what: 'the other instance to show setup closed',
      });
    } finally {
      await replica.close();
    }
    // Not even the gateway's own database role can reopen it, delete it, or switch the guard off.
    const db = gw.app.get(DataSource);
    await expect(
      db.query(`UPDATE gateway.desk_setup SET phase = 'bootstrap', closed_at = NULL, closed_by = NULL`),
    ).rejects.toThrow(/closed for good/);
    await expect(db.query(`DELETE FROM gateway.desk_setup`)).rejects.toThrow(/closed for good/);
    await expect(db.query(`ALTER TABLE gateway.desk_setup DISABLE TRIGGER ALL`)).rejects.toThrow(
      /must be owner/,
    );
    const [event] = await auditEvents('desk.setup_closed', 'setup');
    expect(event!.payload).toMatchObject({ approvers: 2, requiredApprovals: 2 });

    // From now on the standing approvers are the two who remain, and approvals count.
    gw.approverKeys.splice(0, gw.approverKeys.length, approver.key, second.key);
    expect((await as(approver.key, 'POST', `/v1/approvals/${approvalId}/approve`)).json().status).toBe(
      'pending',
    );
    expect((await as(second.key, 'POST', `/v1/approvals/${approvalId}/approve`)).json().status).toBe(
      'executed',
    );
  });

  it('holds a new operator for two approvers: a single admin cannot create one', async () => {
    const created = await as(gw.adminKey, 'POST', '/v1/operators', { name: 'Mallory Sock-Puppet' });
    expect(created.statusCode).toBe(202);
    const pending = created.json();
    expect(pending).toMatchObject({
      status: 'pending_approval',
      requiredApprovals: 2,
      name: 'Mallory Sock-Puppet',
    });
    const operators = async () =>
      ((await as(gw.adminKey, 'GET', '/v1/operators')).json().items as { id: string }[]).map((o) => o.id);
    expect(await operators()).not.toContain(pending.operatorId);
    // No key can be registered for an operator that does not exist yet.
    const early = holderKey();
    expect(
      (
        await as(gw.adminKey, 'POST', `/v1/operators/${pending.operatorId}/keys`, {
          roles: ['approver'],
          keyId: early.keyId,
          digest: early.digest,
        })
      ).statusCode,
    ).toBe(404);
    // The admin, holding no approver role, cannot approve it either.
    expect((await as(gw.adminKey, 'POST', `/v1/approvals/${pending.approvalId}/approve`)).statusCode).toBe(
      403,
    );
    await gw.approveAll(pending.approvalId);
    expect(await operators()).toContain(pending.operatorId);
    const [event] = await auditEvents('operator.created', pending.operatorId);
    expect(event!.payload).toMatchObject({ name: 'Mallory Sock-Puppet', approvalId: pending.approvalId });
  });

  it('holds every privileged key for two approvers; the admin never sees it and the grantee cannot approve it', async () => {
    const grantee = await gw.issueKey(['viewer']);
    const held = holderKey();
    const res = await as(gw.adminKey, 'POST', `/v1/operators/${grantee.operatorId}/keys`, {
      roles: ['approver'],
      keyId: held.keyId,
      digest: held.digest,
      label: 'second approver key',
    });
    expect(res.statusCode).toBe(202);
    const pending = res.json();
    expect(pending).toMatchObject({ status: 'pending_approval', keyId: held.keyId, roles: ['approver'] });
    expect(JSON.stringify(pending)).not.toContain(held.digest);
    expect((await me(held.key)).statusCode).toBe(401);
    const view = (await as(gw.adminKey, 'GET', `/v1/approvals/${pending.approvalId}`)).json();
    expect(view).toMatchObject({ kind: 'key.grant', subjectId: held.keyId, action: { roles: ['approver'] } });
    expect(view.action).not.toHaveProperty('digest');

    // The grantee, with an approver key of their own, may not approve their own grant.
    const own = holderKey();
    const ownRes = await as(gw.adminKey, 'POST', `/v1/operators/${grantee.operatorId}/keys`, {
      roles: ['approver'],
      keyId: own.keyId,
      digest: own.digest,
    });
    await gw.approveAll(ownRes.json().approvalId as string);
    const self = await as(own.key, 'POST', `/v1/approvals/${pending.approvalId}/approve`);
    expect(self.statusCode).toBe(403);
    expect(self.json().error.message).toBe('this key would be yours: another approver must decide');

    await gw.approveAll(pending.approvalId);
    expect((await me(held.key)).json()).toMatchObject({ keyId: held.keyId, roles: ['approver'] });
    const [created] = await auditEvents('key.created', held.keyId);
    expect(created!.payload).toMatchObject({ roles: ['approver'], approvalId: pending.approvalId });
    // A viewer key grants nothing critical: registered at once.
    const viewer = holderKey();
    expect(
      (
        await as(gw.adminKey, 'POST', `/v1/operators/${grantee.operatorId}/keys`, {
          roles: ['viewer'],
          keyId: viewer.keyId,
          digest: viewer.digest,
        })
      ).statusCode,
    ).toBe(201);
  });

  it('the single admin who grants themselves approver and admin keys gains nothing alone', async () => {
    const adminId = (await me(gw.adminKey)).json().operator.id as string;
    const mine = holderKey();
    const res = await as(gw.adminKey, 'POST', `/v1/operators/${adminId}/keys`, {
      roles: ['admin', 'approver'],
      keyId: mine.keyId,
      digest: mine.digest,
    });
    expect(res.statusCode).toBe(202);
    expect((await me(mine.key)).statusCode).toBe(401);
    // Idempotent replay gives the same request, not a second one.
    const idem = { authorization: `Bearer ${gw.adminKey}`, 'idempotency-key': randomUUID() };
    const again = holderKey();
    const payload = { roles: ['approver'], keyId: again.keyId, digest: again.digest };
    const first = await gw.app.inject({
      method: 'POST',
      url: `/v1/operators/${adminId}/keys`,
      headers: idem,
      payload,
    });
    const replay = await gw.app.inject({
      method: 'POST',
      url: `/v1/operators/${adminId}/keys`,
      headers: idem,
      payload,
    });
    expect(replay.statusCode).toBe(202);
    expect(replay.json().approvalId).toBe(first.json().approvalId);
  });

  it('never activates a denied grant, nor one whose operator was disabled before quorum', async () => {
    const [a, b] = gw.approverKeys;
    const target = await gw.issueKey(['viewer']);
    const denied = holderKey();
    const deniedReq = (
      await as(gw.adminKey, 'POST', `/v1/operators/${target.operatorId}/keys`, {
        roles: ['trader'],
        keyId: denied.keyId,
        digest: denied.digest,
      })
    ).json();
    await as(a!, 'POST', `/v1/approvals/${deniedReq.approvalId}/deny`, { reason: 'who asked for this?' });
    expect((await as(b!, 'POST', `/v1/approvals/${deniedReq.approvalId}/approve`)).statusCode).toBe(409);
    expect((await me(denied.key)).statusCode).toBe(401);

    const held = holderKey();
    const heldReq = (
      await as(gw.adminKey, 'POST', `/v1/operators/${target.operatorId}/keys`, {
        roles: ['trader'],
        keyId: held.keyId,
        digest: held.digest,
      })
    ).json();
    expect((await as(gw.adminKey, 'POST', `/v1/operators/${target.operatorId}/disable`)).statusCode).toBe(
      200,
    );
    await as(a!, 'POST', `/v1/approvals/${heldReq.approvalId}/approve`);
    const last = await as(b!, 'POST', `/v1/approvals/${heldReq.approvalId}/approve`);
    expect(last.json()).toMatchObject({
      status: 'refused',
      statusReason: `operator ${target.operatorId} is no longer active`,
    });
    expect((await me(held.key)).statusCode).toBe(401);
  });

  it('the console is no back door: after setup, its operator and key commands wait for approvers too', async () => {
    const cli = (...args: string[]) =>
      execFileSync(process.execPath, [join(__dirname, '..', 'dist', 'cli.js'), ...args], {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH ?? '',
          DATABASE_URL: gw.config.DATABASE_URL,
          REDIS_URL: gw.config.REDIS_URL,
          REDIS_PREFIX: gw.prefix,
        },
      });
    // The holder's own key: consistent id and digest, made without any database.
    const generated = JSON.parse(
      execFileSync(process.execPath, [join(__dirname, '..', 'dist', 'cli.js'), 'key', 'generate'], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '' },
      }),
    ) as { key: string; keyId: string; digest: string };
    expect(generated.keyId).toBe(keyIdOf(generated.key));
    expect(generated.digest).toBe(digestOf(generated.key).toString('hex'));

    const operator = JSON.parse(cli('operator', 'create', 'Console Carl')) as {
      status: string;
      approvalId: string;
      operatorId: string;
    };
    expect(operator.status).toBe('pending_approval');
    await gw.approveAll(operator.approvalId);
    const grant = JSON.parse(
      cli(
        'key',
        'register',
        '--operator',
        operator.operatorId,
        '--roles',
        'admin',
        '--key-id',
        generated.keyId,
        '--digest',
        generated.digest,
      ),
    ) as { status: string; approvalId: string };
    expect(grant.status).toBe('pending_approval');
    expect((await me(generated.key)).statusCode).toBe(401);
    expect(JSON.parse(cli('setup', 'status'))).toMatchObject({ phase: 'operational' });
    await gw.approveAll(grant.approvalId);
    expect((await me(generated.key)).json()).toMatchObject({ roles: ['admin'] });
  });
});
