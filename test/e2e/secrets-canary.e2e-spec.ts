import { execFileSync } from 'node:child_process';
import { createHmac, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  APPS,
  clearRedisPrefix,
  createDatabase,
  dropDatabase,
  issueOperatorKey,
  migrateAll,
  startFakeSentry,
  startFakeVault,
  startPlatform,
  testEnv,
  uniquePrefix,
  waitFor,
  type FakeSentry,
  type FakeVault,
  type RunningPlatform,
} from '@desk/testing';
import { Queue } from 'bullmq';
import { JobName, QueueName } from '@desk/contracts';
import { redisOptions } from '@desk/platform';

const SERVICE_PREFIX = {
  gateway: 'GATEWAY',
  'agent-analysis': 'AGENT_ANALYSIS',
  risk: 'RISK',
  execution: 'EXECUTION',
  audit: 'AUDIT',
} as const;

/** A value found nowhere else: if it shows up somewhere, it leaked from the secret it was given to. */
const canary = (label: string) =>
  `CANARY${label.replace(/[^a-z0-9]/gi, '')}${randomBytes(8).toString('hex')}`;

/**
 * The canary: every secret the platform knows gets a unique value, held only by a local Vault stand-in (no
 * Vault server can be installed here). The five services boot from it, serve requests (good and bad),
 * hold an order for approval and notify the webhook. Then no canary may be found in any service's log
 * output, any HTTP error body, any job payload or other key in Redis, or any row in the database (the audit
 * records among them). Error-reporting events (Sentry) are not captured yet: error reporting is not wired.
 */
describe('no secret leaks: canary values in every secret, served by a local Vault stand-in (five services as processes)', () => {
  const env = testEnv();
  const prefix = uniquePrefix('canary');
  let db: { name: string; url: string };
  let vault: FakeVault;
  let platform: RunningPlatform;
  let redis: Redis;
  let hook: Server;
  let sentry: FakeSentry;
  const deliveries: { headers: IncomingHttpHeaders; body: string }[] = [];
  const bodies: string[] = [];
  const secrets: Record<string, string> = {};
  const signingKey = generateKeyPairSync('ed25519')
    .privateKey.export({ format: 'der', type: 'pkcs8' })
    .toString('base64');
  let webhookSecret = canary('webhook').padEnd(40, 'x');

  beforeAll(async () => {
    db = await createDatabase('canary');
    migrateAll(db.url);
    redis = new Redis(env.redisUrl);
    vault = await startFakeVault();
    sentry = await startFakeSentry();
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        deliveries.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));

    const vaultEnv: Record<string, string> = {};
    for (const app of APPS) {
      const roleId = canary(`${app}roleid`);
      const secretId = canary(`${app}secretid`);
      secrets[`${app} role id`] = roleId;
      secrets[`${app} secret id`] = secretId;
      vault.addRole({
        roleId,
        secretId,
        paths: [`desk/${app}/`, 'desk/shared/'],
        ttlSeconds: 60,
        maxTtlSeconds: 3600,
      });
      vaultEnv[`${SERVICE_PREFIX[app]}_VAULT_ROLE_ID`] = roleId;
      vaultEnv[`${SERVICE_PREFIX[app]}_VAULT_SECRET_ID`] = secretId;
      // Local PostgreSQL trusts 127.0.0.1 (any password is accepted), Redis's default user has none (ioredis
      // goes on without it): both still travel through every place a leak could happen.
      secrets[`${app} database password`] = canary(`${app}dbpw`);
      vault.put(`desk/${app}/database`, { password: secrets[`${app} database password`] });
      secrets[`${app} redis password`] = canary(`${app}redispw`);
      vault.put(`desk/${app}/redis`, { password: secrets[`${app} redis password`] });
    }
    secrets['sentry dsn key'] = canary('sentry');
    // Error reports go to a local stand-in for Sentry's ingest, with the canary as the DSN's public key.
    vault.put('desk/shared/sentry', {
      dsn: sentry.dsn.replace(/\/\/[^@]+@/, `//${secrets['sentry dsn key']}@`),
    });
    secrets['binance api key'] = canary('binancekey');
    secrets['binance api secret'] = canary('binancesecret');
    vault.put('desk/execution/exchanges/binance', {
      api_key: secrets['binance api key'],
      api_secret: secrets['binance api secret'],
    });
    secrets['audit signing key'] = signingKey;
    vault.put('desk/audit/signing', { private_key: signingKey });
    secrets['webhook secret'] = webhookSecret;
    vault.put('desk/gateway/webhook', { secret: webhookSecret });

    platform = await startPlatform({
      databaseUrl: db.url,
      redisUrl: env.redisUrl,
      redisPrefix: prefix,
      env: {
        ...vaultEnv,
        VAULT_ADDR: vault.address,
        VAULT_CACHE_TTL_MS: '200',
        LOG_LEVEL: 'debug',
        EXCHANGE_VENUES: 'binance',
        APPROVAL_WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`,
        // Every order is held for approval, so the webhook is called.
        APPROVAL_NOTIONAL_THRESHOLD: '1',
        AGENT_TRADING_ENABLED: 'false',
      },
    });
  });

  afterAll(async () => {
    await platform?.stop();
    redis?.disconnect();
    await vault?.close();
    await sentry?.close();
    await new Promise((r) => hook?.close(r));
    if (db) await dropDatabase(db.name);
    await clearRedisPrefix(prefix);
  });

  const call = async (method: string, path: string, key: string | undefined, body?: unknown) => {
    const res = await fetch(`${platform.baseUrl}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body === undefined
          ? {}
          : { 'content-type': 'application/json', 'idempotency-key': randomUUID() }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    bodies.push(text);
    return { status: res.status, text };
  };

  it('every service took its secrets from the local Vault stand-in', async () => {
    for (const app of APPS) {
      const res = await fetch(`http://127.0.0.1:${platform.ports[app]}/health/ready`);
      const details = ((await res.json()) as { details: { secrets: { source: string } } }).details;
      expect({ app, source: details.secrets.source }).toEqual({ app, source: 'vault' });
    }
  });

  it('signs the approval webhook with the secret from Vault, and a rotated secret signs the next delivery', async () => {
    const trader = (await issueOperatorKey(platform.baseUrl, platform.adminKey, 'Canary Trader', ['trader']))
      .key;
    await waitFor(async () => ((await redis.hget(`${prefix}:market:last`, 'ETH/USDT')) ? true : undefined));
    const order = { symbol: 'ETH/USDT', side: 'buy', type: 'limit', price: '1000', quantity: '0.01' };
    expect((await call('POST', '/v1/orders', trader, order)).status).toBe(202);
    const first = await waitFor(async () => deliveries[0], { timeoutMs: 30_000, what: 'a webhook delivery' });
    const sign = (secret: string, d: { headers: IncomingHttpHeaders; body: string }) =>
      `sha256=${createHmac('sha256', secret)
        .update(`${String(d.headers['x-desk-timestamp'])}.${d.body}`)
        .digest('hex')}`;
    expect(first.headers['x-desk-signature']).toBe(sign(webhookSecret, first));

    webhookSecret = canary('webhookrotated').padEnd(40, 'y');
    secrets['rotated webhook secret'] = webhookSecret;
    vault.put('desk/gateway/webhook', { secret: webhookSecret });
    await new Promise((r) => setTimeout(r, 300));
    expect((await call('POST', '/v1/orders', trader, { ...order, price: '1001' })).status).toBe(202);
    const second = await waitFor(async () => deliveries[1], { timeoutMs: 30_000, what: 'a second delivery' });
    expect(second.headers['x-desk-signature']).toBe(sign(webhookSecret, second));

    // Errors, as a caller may provoke them.
    expect((await call('GET', '/v1/orders', undefined)).status).toBe(401);
    expect((await call('GET', '/v1/orders', `${secrets['binance api key']}`)).status).toBe(401);
    expect((await call('POST', '/v1/orders', trader, '{not json')).status).toBe(400);
    expect((await call('POST', '/v1/orders', trader, { ...order, quantity: 'lots' })).status).toBe(400);
    expect((await call('GET', `/v1/orders/${randomUUID()}`, trader)).status).toBe(404);
    // Let the audit events of all this land.
    await waitFor(async () => {
      const r = await redis.keys(`${prefix}:*audit*`);
      return r.length ? true : undefined;
    });
    await new Promise((r) => setTimeout(r, 1500));
  });

  it('finds no canary in logs, error bodies, Redis (job payloads), the database (audit records) or error reports', async () => {
    // A malformed job risk's processor refuses: reported to Sentry (as every service's errors would be).
    const intents = new Queue(QueueName.Intents, { connection: redisOptions(env.redisUrl), prefix });
    await intents.add(JobName.IntentSubmitted, {
      schemaVersion: 1,
      intentId: 'not-a-uuid',
    });
    await intents.close();
    await waitFor(
      async () =>
        sentry.events.find((e) => e.event.tags?.service === 'risk' && e.event.tags?.origin === 'queue'),
      { what: "risk's failed job at the Sentry stand-in" },
    );
    const logs = APPS.map((app) => platform.output[app].join('')).join('\n');
    expect(logs).toContain('secrets resolved');
    expect(logs).toContain('configuration (secrets masked)'); // each service's config dump

    const redisText: string[] = [];
    for (const key of await redis.keys(`${prefix}:*`)) {
      const type = await redis.type(key);
      if (type === 'string') redisText.push((await redis.get(key)) ?? '');
      else if (type === 'hash') redisText.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'list') redisText.push(JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === 'zset') redisText.push(JSON.stringify(await redis.zrange(key, 0, -1)));
      else if (type === 'set') redisText.push(JSON.stringify(await redis.smembers(key)));
      else if (type === 'stream') redisText.push(JSON.stringify(await redis.xrange(key, '-', '+')));
    }
    expect(redisText.join('\n')).toContain('ETH/USDT'); // job payloads were there to search
    const database = execFileSync('pg_dump', ['--data-only', '--no-owner', db.url], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    expect(database).toContain('order.received'); // audit records were there to search

    // The DSN's public key is what identifies the project to Sentry: it is sent there by design, nowhere else.
    const reports = sentry.rawBodies.join('\n').split(secrets['sentry dsn key']).join('[dsn key]');
    const places = {
      logs,
      'error bodies': bodies.join('\n'),
      redis: redisText.join('\n'),
      database,
      'error reports (Sentry)': reports,
    };
    const all = {
      ...secrets,
      ...Object.fromEntries(vault.issuedTokens.map((t, i) => [`vault token ${i}`, t])),
    };
    const leaks: string[] = [];
    for (const [place, text] of Object.entries(places)) {
      for (const [name, value] of Object.entries(all)) {
        if (text.includes(value)) leaks.push(`${name} in ${place}`);
      }
    }
    expect(leaks).toEqual([]);
  });
});
