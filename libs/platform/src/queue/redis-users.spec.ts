import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { DESK_SERVICES } from '../persistence/database-roles';
import { withLocalRedisUrls, envFor } from '../config/service-env';
import { redisUserName, redisUserRules } from './redis-users';

describe('per-service Redis users', () => {
  it('are exactly what infra/redis/users.acl deploys (prefix desk), default user off', () => {
    const file = readFileSync(join(__dirname, '..', '..', '..', '..', 'infra', 'redis', 'users.acl'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('user '));
    expect(file).toEqual([
      'user default off',
      ...DESK_SERVICES.map(
        (s) => `user ${redisUserName(s)} on >change-me-${s} ${redisUserRules(s, 'desk').join(' ')}`,
      ),
    ]);
  });

  it('refuses a prefix that would widen the key pattern', () => {
    expect(() => redisUserRules('risk', 'desk*')).toThrow(/REDIS_PREFIX/);
    expect(() => redisUserRules('risk', 'a b')).toThrow(/REDIS_PREFIX/);
  });

  it('locally, each service connects as its own user, and receives only its own password inside its URL', () => {
    const env = withLocalRedisUrls({
      REDIS_URL: 'redis://127.0.0.1:6379',
      RISK_REDIS_PASSWORD: 'risk-secret',
      GATEWAY_REDIS_PASSWORD: 'gateway-secret',
    });
    const risk = envFor('risk', env);
    expect(risk.REDIS_URL).toBe('redis://desk-risk:risk-secret@127.0.0.1:6379');
    expect(JSON.stringify(risk)).not.toContain('gateway-secret');
    expect(risk).not.toHaveProperty('RISK_REDIS_PASSWORD');
    // A service without a generated password keeps REDIS_URL; one the operator set is kept.
    expect(envFor('audit', env).REDIS_URL).toBe('redis://127.0.0.1:6379');
    const own = withLocalRedisUrls({
      RISK_REDIS_URL: 'rediss://mine@redis.internal',
      RISK_REDIS_PASSWORD: 'x',
    });
    expect(envFor('risk', own).REDIS_URL).toBe('rediss://mine@redis.internal');
  });
});
