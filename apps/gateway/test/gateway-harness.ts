import { afterAll } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { QueueName } from '@desk/contracts';
import { buildApp, redisOptions } from '@desk/platform';
import { createMigratedDatabase, dropDatabase, testEnv, uniquePrefix } from '@desk/testing';
import { gatewayAppOptions } from '../src/app-options';
import { AppModule } from '../src/app.module';
import { loadGatewayConfig, type GatewayConfig } from '../src/config';
import { DataSource } from 'typeorm';
import { Role } from '../src/modules/access/role';
import { ApiKeysService } from '../src/modules/keys/api-keys.service';
import { BootstrapService } from '../src/modules/keys/bootstrap.service';

export interface Gateway {
  app: NestFastifyApplication;
  config: GatewayConfig;
  prefix: string;
  adminKey: string;
  queue(name: string): Queue;
  close(): Promise<void>;
  /** As an admin would: an operator with one key holding these roles. */
  issueKey(
    roles: string[],
    extra?: Record<string, unknown>,
  ): Promise<{ key: string; keyId: string; operatorId: string }>;
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
  shared?: { prefix: string; adminKey: string },
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
  if (!adminKey) {
    // Every test database has one admin: the first gateway to need one mints it; others get their own key.
    const issued = await app.get(BootstrapService).bootstrapAdmin('test-admin', () => undefined);
    adminKey = issued?.key ?? (await issueWithAnyAdmin(app));
  }
  // One Queue per name for the gateway's life: opening and closing connections per poll races their setup.
  const queues = new Map<string, Queue>();
  const gateway: Gateway = {
    app,
    config,
    prefix,
    adminKey,
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
        Object.values(QueueName).map((name) =>
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
      const operatorId = operator.json().id as string;
      const res = await app.inject({
        method: 'POST',
        url: `/v1/operators/${operatorId}/keys`,
        headers: admin,
        payload: { roles, ...extra },
      });
      if (res.statusCode === 202) {
        // An admin key waits for the two-man rule: two approvers (other operators) release it.
        const approvalId = res.json().approvalId as string;
        for (let n = 0; n < 2; n++) {
          const approver = await gateway.issueKey(['approver']);
          const approved = await app.inject({
            method: 'POST',
            url: `/v1/approvals/${approvalId}/approve`,
            headers: { authorization: `Bearer ${approver.key}` },
          });
          if (approved.statusCode !== 200) throw new Error(`could not approve: ${approved.body}`);
        }
      } else if (res.statusCode !== 201) throw new Error(`could not issue a key: ${res.body}`);
      return { key: res.json().key as string, keyId: res.json().keyId as string, operatorId };
    },
  };
  return gateway;
}

/** The test database already has an admin (another file bootstrapped it): make a fresh admin key directly. */
async function issueWithAnyAdmin(app: NestFastifyApplication): Promise<string> {
  const db = app.get(DataSource);
  const [row] = await db.query<{ id: string }[]>(
    `SELECT id FROM gateway.operators WHERE name = 'test-admin'`,
  );
  if (!row) throw new Error('no test admin operator');
  const issued = await db.transaction((tx) =>
    app.get(ApiKeysService).issue(
      tx,
      { actor: { type: 'service', id: 'test' }, correlationId: 'test' },
      {
        operatorId: row.id,
        roles: [Role.Admin],
        label: 'test admin',
        expiresAt: null,
      },
    ),
  );
  return issued.key;
}
