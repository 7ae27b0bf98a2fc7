import type { Redis } from 'ioredis';
import { ServiceName, queuesOf } from '@desk/contracts';
import { DESK_SERVICES, type DeskService } from '../persistence/database-roles';

/**
 * Per-service Redis ACL users (docs/adr/0009, 0016): what BullMQ, the price store and the throttler need,
 * and nothing administrative. Keys: only the queues the service produces to or consumes from, derived from
 * QUEUE_TOPOLOGY (BullMQ keeps a queue under `<prefix>:<queue>:*`), so a service cannot add a job to a
 * queue it does not produce to, nor to another service's audit queue; plus the service's own non-queue keys
 * below. infra/redis/users.acl (the deployment's file) holds exactly these rules for the prefix `desk` (a
 * unit test keeps the two equal); `npm start` applies them to the local Redis for the configured prefix.
 */
const COMMANDS = [
  '-@all',
  '+@read',
  '+@write',
  '+@keyspace',
  '+@list',
  '+@hash',
  '+@set',
  '+@sortedset',
  '+@string',
  '+@stream',
  '+@blocking',
  '+@scripting',
  '+@transaction',
  '+@connection',
  '-@dangerous',
  // BullMQ reads the server version with INFO (a worker fails with NOPERM without it).
  '+info',
];

/**
 * Non-queue keys (`<prefix>:<name>:*`): read-write, or read-only (`%R~`). The market prices are written by
 * agent-analysis and read by the gateway, risk and execution; the gateway keeps its verification runs and
 * its security-audit windows, and its rate limiter hash-tags its keys (`{<prefix>:throttle:…}`).
 */
const OWN_KEYS: Readonly<Record<DeskService, { readWrite: readonly string[]; readOnly: readonly string[] }>> =
  {
    gateway: { readWrite: ['audit-verify', 'security-audit'], readOnly: ['market'] },
    'agent-analysis': { readWrite: ['market'], readOnly: [] },
    risk: { readWrite: [], readOnly: ['market'] },
    execution: { readWrite: [], readOnly: ['market'] },
    audit: { readWrite: [], readOnly: [] },
  };

const SERVICE_NAMES: Readonly<Record<DeskService, ServiceName>> = {
  gateway: ServiceName.Gateway,
  'agent-analysis': ServiceName.AgentAnalysis,
  risk: ServiceName.Risk,
  execution: ServiceName.Execution,
  audit: ServiceName.Audit,
};

export const redisUserName = (service: DeskService): string => `desk-${service}`;

/** The ACL rules (after the password) of a service's user for `prefix`. */
export function redisUserRules(service: DeskService, prefix: string): string[] {
  if (!/^[A-Za-z0-9_.:-]+$/.test(prefix))
    throw new Error(`REDIS_PREFIX "${prefix}" cannot be used in an ACL key pattern`);
  const own = OWN_KEYS[service];
  const keys = [
    ...queuesOf(SERVICE_NAMES[service]).map((queue) => `~${prefix}:${queue}:*`),
    ...own.readWrite.map((name) => `~${prefix}:${name}:*`),
    ...own.readOnly.map((name) => `%R~${prefix}:${name}:*`),
    ...(service === 'gateway' ? [`~{${prefix}:throttle:*`] : []),
  ];
  return ['resetkeys', ...keys, 'resetchannels', ...COMMANDS];
}

/** Creates or resets each service's user on a Redis reached with administrative rights. */
export async function ensureRedisUsers(
  admin: Redis,
  prefix: string,
  passwords: Readonly<Record<DeskService, string>>,
): Promise<void> {
  for (const service of DESK_SERVICES) {
    await admin.call(
      'ACL',
      'SETUSER',
      redisUserName(service),
      'reset',
      'on',
      `>${passwords[service]}`,
      ...redisUserRules(service, prefix),
    );
  }
}
