import type { Redis } from 'ioredis';
import { DESK_SERVICES, type DeskService } from '../persistence/database-roles';

/**
 * Per-service Redis ACL users (docs/adr/0009): what BullMQ, the price store and the throttler need, within
 * the desk's key prefix, and nothing administrative. infra/redis/users.acl (the deployment's file) holds
 * exactly these rules for the prefix `desk` (a unit test keeps the two equal); `npm start` applies them to
 * the local Redis for the configured prefix.
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

export const redisUserName = (service: DeskService): string => `desk-${service}`;

/** The ACL rules (after the password) of a service's user for `prefix`. */
export function redisUserRules(service: DeskService, prefix: string): string[] {
  if (!/^[A-Za-z0-9_.:-]+$/.test(prefix))
    throw new Error(`REDIS_PREFIX "${prefix}" cannot be used in an ACL key pattern`);
  // The gateway's rate limiter hash-tags its keys: `{<prefix>:throttle:…}`.
  const keys = [`~${prefix}:*`, ...(service === 'gateway' ? [`~{${prefix}:*`] : [])];
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
