import { afterAll } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import {
  JobName,
  OrderSide,
  OrderType,
  QueueName,
  SCHEMA_VERSION,
  ServiceName,
  queuesOf,
  type ApprovalRequested,
} from '@desk/contracts';
import { buildApp, redisOptions } from '@desk/platform';
import { createMigratedDatabase, dropDatabase, testEnv, uniquePrefix, waitFor } from '@desk/testing';
import { gatewayAppOptions } from '../src/app-options';
import { AppModule } from '../src/app.module';
import { loadGatewayConfig, type GatewayConfig } from '../src/config';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { Role } from '../src/modules/access/role';
import { ApiKeysService } from '../src/modules/keys/api-keys.service';
import { BootstrapService } from '../src/modules/keys/bootstrap.service';
import { generateApiKey } from '../src/modules/access/api-key';

export interface Gateway {
  app: NestFastifyApplication;
  config: GatewayConfig;
  prefix: string;
  adminKey: string;
  /** Keys of the file's standing approvers (distinct operators), who close setup and approve grants. */
  approverKeys: string[];
  queue(name: string): Queue;
  close(): Promise<void>;
  /**
   * As a desk would: an admin creates an operator, the holder generates a key, the admin registers it, and
   * the standing approvers approve whatever needs them (nothing while setup is open).
   */
  issueKey(
    roles: string[],
    extra?: Record<string, unknown>,
  ): Promise<{ key: string; keyId: string; operatorId: string }>;
  /** The standing approvers approve a request until it leaves 'pending'. */
  approveAll(approvalId: string): Promise<void>;
}

/** A key as its holder makes it (`desk key generate`): what they keep, and what they hand the admin. */
export function holderKey(): { key: string; keyId: string; digest: string } {
  const k = generateApiKey();
  return { key: k.key, keyId: k.keyId, digest: k.digest.toString('hex') };
}

/**
 * The gateways of one test file share a database of their own: gateway tests count and relay the rows of
 * the gateway's tables (its outbox among them), so two files running at once must not share one. Made on
 * the first start; dropped after the file, once its own afterAll hooks have closed everything.
 */
let fileDb: Promise<{ name: string; url: string }> | undefined;
afterAll(async () => {
  if (fileDb && process.env.DESK_KEEP_TEST_DATA !== 'true') await dropDatabase((await fileDb).name);
});

/**
 * A gateway built exactly as main.ts builds it (same module, same Fastify options), driven with inject().
 * Each call gets its own Redis prefix unless one is given (two instances sharing one = two gateway replicas),
 * and the test file's own database unless `env.DATABASE_URL` names another.
 */
export async function startGateway(
  env: Record<string, string> = {},
  shared?: { prefix: string; adminKey: string; approverKeys?: string[] },
  options: { setup?: 'open' | 'closed' } = {},
): Promise<Gateway> {
  const t = testEnv();
  const prefix = shared?.prefix ?? uniquePrefix(t.redisPrefix);
  if (env.DATABASE_URL === undefined) fileDb ??= createMigratedDatabase('gateway');
  const config = loadGatewayConfig({
    DATABASE_URL: env.DATABASE_URL ?? (await fileDb!).url,
    REDIS_URL: t.redisUrl,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    TRADING_SYMBOLS: 'BTC/USDT,ETH/USDT',
    THROTTLE_LIMIT: '1000',
    THROTTLE_IP_LIMIT: '1000',
    THROTTLE_ORDER_LIMIT: '1000',
    ...env,
  });
  const app = await buildApp(AppModule.forRoot(config), gatewayAppOptions(config));
  let adminKey = shared?.adminKey;
  let approverKeys = shared?.approverKeys ?? [];
  if (!adminKey) {
    // Every test database has one admin: the first gateway to need one mints it; others get their own key.
    const issued = await app.get(BootstrapService).bootstrapAdmin('test-admin', () => undefined);
    adminKey = issued?.key ?? (await consoleKey(app, 'test-admin', [Role.Admin]));
    approverKeys = await standingApprovers(app, adminKey, config.APPROVAL_REQUIRED_APPROVALS, options.setup);
  }
  // One Queue per name for the gateway's life: opening and closing connections per poll races their setup.
  const queues = new Map<string, Queue>();
  const gateway: Gateway = {
    app,
    config,
    prefix,
    adminKey,
    approverKeys,
    queue(name) {
      let q = queues.get(name);
      if (!q) {
        q = new Queue(name, { connection: redisOptions(t.redisUrl), prefix });
        queues.set(name, q);
      }
      return q;
    },
    async close() {
      // Let the app's own queue connections finish connecting first: closing one mid-handshake leaves
      // ioredis rejecting its setup commands after the test has moved on.
      await Promise.all(
        queuesOf(ServiceName.Gateway).map((name) =>
          app
            .get<Queue>(getQueueToken(name), { strict: false })
            .waitUntilReady()
            .catch(() => undefined),
        ),
      );
      await Promise.all([...queues.values()].map((q) => q.close()));
      await app.close();
    },
    async issueKey(roles, extra = {}) {
      const admin = { authorization: `Bearer ${adminKey}` };
      const operator = await app.inject({
        method: 'POST',
        url: '/v1/operators',
        headers: admin,
        payload: { name: `op-${uniquePrefix('n')}` },
      });
      if (operator.statusCode === 202) await gateway.approveAll(operator.json().approvalId as string);
      else if (operator.statusCode !== 201) throw new Error(`could not create an operator: ${operator.body}`);
      const operatorId = (operator.json().operatorId ?? operator.json().id) as string;
      const holder = holderKey();
      const res = await app.inject({
        method: 'POST',
        url: `/v1/operators/${operatorId}/keys`,
        headers: admin,
        payload: { roles, keyId: holder.keyId, digest: holder.digest, ...extra },
      });
      if (res.statusCode === 202) await gateway.approveAll(res.json().approvalId as string);
      else if (res.statusCode !== 201) throw new Error(`could not register a key: ${res.body}`);
      return { key: holder.key, keyId: holder.keyId, operatorId };
    },
    async approveAll(approvalId) {
      for (const approver of gateway.approverKeys) {
        const approved = await app.inject({
          method: 'POST',
          url: `/v1/approvals/${approvalId}/approve`,
          headers: { authorization: `Bearer ${approver}` },
        });
        if (approved.statusCode !== 200) throw new Error(`could not approve: ${approved.body}`);
        if (approved.json().status !== 'pending') return;
      }
      throw new Error(`approval ${approvalId} is still pending after every standing approver`);
    },
  };
  return gateway;
}

/**
 * The file's standing approvers: on a fresh desk, created while setup is open (as a desk's first approvers
 * are), which is then closed unless the test wants it open; on a desk set up by an earlier gateway of the
 * file, fresh keys for the approvers it made.
 */
async function standingApprovers(
  app: NestFastifyApplication,
  adminKey: string,
  count: number,
  setup: 'open' | 'closed' = 'closed',
): Promise<string[]> {
  const db = app.get(DataSource);
  const existing = await db.query<{ name: string }[]>(
    `SELECT name FROM gateway.operators WHERE name LIKE 'standing-approver-%' ORDER BY name`,
  );
  if (existing.length >= count) {
    return Promise.all(existing.slice(0, count).map((o) => consoleKey(app, o.name, [Role.Approver])));
  }
  const keys: string[] = [];
  for (let n = 0; n < count; n++) {
    const as = { authorization: `Bearer ${adminKey}` };
    const op = await app.inject({
      method: 'POST',
      url: '/v1/operators',
      headers: as,
      payload: { name: `standing-approver-${n}` },
    });
    if (op.statusCode !== 201) throw new Error(`could not create a standing approver: ${op.body}`);
    const holder = holderKey();
    const key = await app.inject({
      method: 'POST',
      url: `/v1/operators/${op.json().id as string}/keys`,
      headers: as,
      payload: { roles: ['approver'], keyId: holder.keyId, digest: holder.digest },
    });
    if (key.statusCode !== 201) throw new Error(`could not register a standing approver key: ${key.body}`);
    keys.push(holder.key);
  }
  if (setup === 'closed') {
    const closed = await app.inject({
      method: 'POST',
      url: '/v1/setup/close',
      headers: { authorization: `Bearer ${adminKey}` },
    });
    if (closed.statusCode !== 200) throw new Error(`could not close setup: ${closed.body}`);
  }
  return keys;
}

/** Test set-up only: a fresh key for an existing operator, written straight through the key service. */
async function consoleKey(app: NestFastifyApplication, operatorName: string, roles: Role[]): Promise<string> {
  const db = app.get(DataSource);
  const [row] = await db.query<{ id: string }[]>(`SELECT id FROM gateway.operators WHERE name = $1`, [
    operatorName,
  ]);
  if (!row) throw new Error(`no operator ${operatorName}`);
  const issued = await db.transaction((tx) =>
    app
      .get(ApiKeysService)
      .issue(
        tx,
        { actor: { type: 'service', id: 'test' }, correlationId: 'test' },
        { operatorId: row.id, roles, label: 'test key', expiresAt: null },
      ),
  );
  return issued.key;
}

/** What risk does for a critical order: an approval.requested job. Resolves once the gateway holds it. */
export async function criticalOrder(
  gw: Gateway,
  requesterOperatorId: string,
): Promise<{ intentId: string; approvalId: string }> {
  const intentId = randomUUID();
  const job: ApprovalRequested = {
    schemaVersion: SCHEMA_VERSION,
    intentId,
    actor: { type: 'operator', id: requesterOperatorId, keyId: 'kid_0000000000000000' },
    order: { symbol: 'BTC/USDT', side: OrderSide.Buy, type: OrderType.Limit, quantity: '1', price: '60000' },
    reasonCode: 'APPROVAL_REQUIRED',
    context: { notional: '60000', threshold: '25000', referencePrice: '60000' },
    requestedAt: new Date().toISOString(),
    correlationId: randomUUID(),
  };
  await holdForApproval(gw, job);
  await gw.queue(QueueName.Approvals).add(JobName.ApprovalRequested, job, { jobId: intentId });
  const approval = await waitFor(async () => {
    const list = await gw.app.inject({
      url: '/v1/approvals?status=pending&limit=200',
      headers: { authorization: `Bearer ${gw.adminKey}` },
    });
    return (list.json().items as { id: string; subjectId: string }[]).find((a) => a.subjectId === intentId);
  });
  return { intentId, approvalId: approval.id };
}

/**
 * What risk records when it holds an order for approval (risk.intents in PENDING_APPROVAL, and its event),
 * written as the test database's superuser: the gateway opens a request only for an order risk holds
 * (risk.approval_holds, docs/adr/0016).
 */
export async function holdForApproval(
  gw: Gateway,
  job: ApprovalRequested,
  decision: 'PENDING_APPROVAL' | 'ACCEPTED' = 'PENDING_APPROVAL',
): Promise<void> {
  const pg = new Client({ connectionString: gw.config.DATABASE_URL });
  await pg.connect();
  try {
    const { order, actor, context } = job;
    await pg.query(
      `INSERT INTO risk.intents (id, source, actor_type, actor_id, actor_key_id, symbol, side, type, quantity,
                                 price, status, reason_code, notional, reference_price, correlation_id,
                                 submitted_at, time_in_force, post_only)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'APPROVAL_REQUIRED', $12, $13, $14, now(), $15,
               $16)`,
      [
        job.intentId,
        actor.type === 'operator' ? 'operator' : 'agent',
        actor.type,
        actor.id,
        actor.keyId ?? null,
        order.symbol,
        order.side,
        order.type,
        order.quantity,
        order.price ?? null,
        decision,
        typeof context.notional === 'string' ? context.notional : null,
        typeof context.referencePrice === 'string' ? context.referencePrice : null,
        job.correlationId,
        order.timeInForce ?? null,
        order.postOnly ?? false,
      ],
    );
    await pg.query(
      `INSERT INTO risk.intent_events (intent_id, status, reason_code) VALUES ($1, 'PENDING_APPROVAL', 'APPROVAL_REQUIRED')`,
      [job.intentId],
    );
  } finally {
    await pg.end();
  }
}
